// Package plan turns scanned references and the tags chosen for them into a
// Plan: the exact byte edits to make and the promotions they amount to. It is
// pure and deterministic: the same input in any order gives the same Plan.
package plan

import (
	"fmt"
	"slices"
	"sort"

	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/scan"
)

// Input is one managed reference and what it should become.
type Input struct {
	Match    scan.Match
	Rule     string // name of the rule that manages it
	To       string // the chosen tag
	ToDigest string // the chosen tag's digest; required when the reference pins a digest
}

// Edit replaces the bytes Old at Span of Path with New.
type Edit struct {
	Path string
	Line int
	Span scan.Span
	Old  string
	New  string
}

// Promotion is one image moving from one tag to another, in one or more files.
type Promotion struct {
	Image  string // canonical image name, as in trailers
	From   string
	To     string
	Digest string // digest of To when known
	Rule   string
	Paths  []string // files touched, sorted
}

// Plan is everything one run will change.
type Plan struct {
	Edits      []Edit
	Promotions []Promotion
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool { return len(p.Edits) == 0 }

// Paths returns the files the plan edits, sorted.
func (p Plan) Paths() []string {
	var out []string
	for i, e := range p.Edits {
		if i == 0 || e.Path != p.Edits[i-1].Path {
			out = append(out, e.Path)
		}
	}
	return out
}

// Build makes the plan. Inputs whose tag (and digest) already equal the
// chosen ones produce nothing. It refuses tags and digests that are not
// valid OCI syntax, whatever their source, so a hostile registry can never
// write arbitrary text into a file.
func Build(inputs []Input) (Plan, error) {
	type key struct{ image, from, to string }
	promos := map[key]*Promotion{}
	var edits []Edit
	for _, in := range inputs {
		m := in.Match
		tagChanges := in.To != "" && in.To != m.Ref.Tag
		digestChanges := !m.Digest.Empty() && in.ToDigest != "" && in.ToDigest != m.Ref.Digest
		if !tagChanges && !digestChanges {
			continue
		}
		if !imageref.ValidTag(in.To) {
			return Plan{}, fmt.Errorf("%s:%d: refusing to write %q: not a valid tag", m.Path, m.Line, in.To)
		}
		if m.Tag.Empty() {
			return Plan{}, fmt.Errorf("%s:%d: %s has no tag to replace", m.Path, m.Line, m.Ref.Original)
		}
		if !m.Digest.Empty() {
			if in.ToDigest == "" {
				return Plan{}, fmt.Errorf("%s:%d: %s is pinned by digest but the digest of %s is unknown", m.Path, m.Line, m.Ref.Name, in.To)
			}
			if !imageref.ValidDigest(in.ToDigest) {
				return Plan{}, fmt.Errorf("%s:%d: refusing to write %q: not a valid digest", m.Path, m.Line, in.ToDigest)
			}
		}
		if tagChanges {
			edits = append(edits, Edit{Path: m.Path, Line: m.Line, Span: m.Tag, Old: m.Ref.Tag, New: in.To})
		}
		if digestChanges {
			edits = append(edits, Edit{Path: m.Path, Line: m.Line, Span: m.Digest, Old: m.Ref.Digest, New: in.ToDigest})
		}
		// A reference that keeps its tag but follows it to a new digest is
		// recorded as a move from digest to digest.
		k := key{m.Ref.Image(), m.Ref.Tag, in.To}
		if !tagChanges {
			k = key{m.Ref.Image(), m.Ref.Digest, in.ToDigest}
		}
		p := promos[k]
		if p == nil {
			p = &Promotion{Image: k.image, From: k.from, To: k.to, Rule: in.Rule}
			promos[k] = p
		}
		if in.ToDigest != "" {
			p.Digest = in.ToDigest
		}
		if !slices.Contains(p.Paths, m.Path) {
			p.Paths = append(p.Paths, m.Path)
		}
	}

	sort.Slice(edits, func(i, j int) bool {
		a, b := edits[i], edits[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Span.Start < b.Span.Start
	})
	var dedup []Edit
	for i, e := range edits {
		if i > 0 {
			prev := dedup[len(dedup)-1]
			if prev.Path == e.Path && prev.Span == e.Span {
				if prev.New != e.New {
					return Plan{}, fmt.Errorf("%s:%d: two rules want %q and %q at the same place", e.Path, e.Line, prev.New, e.New)
				}
				continue
			}
			if prev.Path == e.Path && e.Span.Start < prev.Span.End {
				return Plan{}, fmt.Errorf("%s:%d: overlapping edits", e.Path, e.Line)
			}
		}
		dedup = append(dedup, e)
	}

	out := Plan{Edits: dedup}
	for _, p := range promos {
		sort.Strings(p.Paths)
		out.Promotions = append(out.Promotions, *p)
	}
	sort.Slice(out.Promotions, func(i, j int) bool {
		a, b := out.Promotions[i], out.Promotions[j]
		if a.Image != b.Image {
			return a.Image < b.Image
		}
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
	return out, nil
}
