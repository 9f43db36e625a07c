package trust

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// RecordVersion is the version of the record format this code writes and
// reads.
const RecordVersion = 1

// File is one covered file as it is: its git mode and the sha256 of its
// contents (of the target, for a symlink). A file the index holds but the
// working tree lacks has an empty Mode and Hash.
type File struct {
	Path string `json:"path"`
	Mode string `json:"mode"`
	Hash string `json:"hash"`
}

// Record is a trusted state: the configuration's hash and every covered
// file. Version 0 stands for a trust that recorded the configuration
// alone, as git-laminar did before trust covered files: it trusts no file. A path may appear twice: after git-laminar's own commit changed a
// covered file (a tag in charts/**, the output of a trusted render
// script), both the content before and after it are trusted, so a run
// whose push failed still trusts the remote's version it goes back to.
type Record struct {
	Version    int    `json:"version"`
	Config     string `json:"config"`
	ConfigHash string `json:"config_hash"`
	Files      []File `json:"files"`
}

// NewRecord records the current state.
func NewRecord(config, configHash string, files []File) *Record {
	r := &Record{Version: RecordVersion, Config: config, ConfigHash: configHash, Files: append([]File{}, files...)}
	r.sort()
	return r
}

func (r *Record) sort() {
	sort.SliceStable(r.Files, func(i, j int) bool { return r.Files[i].Path < r.Files[j].Path })
}

// Encode writes the record as indented JSON.
func (r *Record) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseRecord reads a record Encode wrote.
func ParseRecord(data []byte) (*Record, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the record")
	}
	if r.Version != RecordVersion {
		return nil, fmt.Errorf("record version %d; this git-laminar reads version %d", r.Version, RecordVersion)
	}
	if !strings.HasPrefix(r.ConfigHash, "sha256:") {
		return nil, fmt.Errorf("config_hash %q is not a sha256 hash", r.ConfigHash)
	}
	for _, f := range r.Files {
		if f.Path == "" {
			return nil, errors.New("a file without a path")
		}
	}
	return &r, nil
}

// accepts reports whether the record trusts f as it is.
func (r *Record) accepts(f File) bool {
	for _, g := range r.Files {
		if g == f {
			return true
		}
	}
	return false
}

func (r *Record) paths() map[string]bool {
	out := map[string]bool{}
	for _, f := range r.Files {
		out[f.Path] = true
	}
	return out
}

// Advance returns the record after git-laminar's own commit from a
// trusted state: for each covered file the commit wrote (committed), the
// content before it (in before) and after it (in after) are trusted; the
// other files keep what the record holds. The caller checks that before
// was trusted by r.
func (r *Record) Advance(configHash string, before, after []File, committed map[string]bool) *Record {
	was := map[string]File{}
	for _, f := range before {
		was[f.Path] = f
	}
	out := &Record{Version: RecordVersion, Config: r.Config, ConfigHash: configHash}
	for _, f := range after {
		if committed[f.Path] {
			if old, ok := was[f.Path]; ok && old != f {
				out.Files = append(out.Files, old)
			}
			out.Files = append(out.Files, f)
			continue
		}
		for _, g := range r.Files {
			if g.Path == f.Path {
				out.Files = append(out.Files, g)
			}
		}
	}
	out.sort()
	return out
}

// Diff is what changed between a record and the current state.
type Diff struct {
	NoRecord      bool     // nothing is trusted here
	ConfigOnly    bool     // only the configuration was trusted (Record.Version 0), no file
	ConfigChanged bool     // the configuration is not the trusted one
	Changed       []string // covered then and now; content or mode differs
	Added         []string // covered now, not then
	Removed       []string // covered then, not now (deleted, or no longer named)
}

// Trusted reports whether nothing changed.
func (d Diff) Trusted() bool {
	return !d.NoRecord && !d.ConfigChanged && len(d.Changed)+len(d.Added)+len(d.Removed) == 0
}

// String says what changed, for messages: "render.sh changed; charts/x.yaml
// added".
func (d Diff) String() string {
	if d.NoRecord {
		return "nothing is trusted here yet"
	}
	var parts []string
	if d.ConfigOnly && len(d.Added) > 0 {
		parts = append(parts, "only the configuration was trusted, not the files its commands run")
	}
	if d.ConfigChanged {
		parts = append(parts, "the configuration changed")
	}
	for _, l := range []struct {
		what  string
		paths []string
	}{{"changed", d.Changed}, {"added", d.Added}, {"removed", d.Removed}} {
		for _, p := range l.paths {
			parts = append(parts, quote(p)+" "+l.what)
		}
	}
	if len(parts) == 0 {
		return "nothing changed"
	}
	return strings.Join(parts, "; ")
}

// Compare says what changed since r (nil: nothing trusted) in the
// configuration (its hash now) and the covered files (as they are now).
func Compare(r *Record, configHash string, now []File) Diff {
	if r == nil {
		return Diff{NoRecord: true}
	}
	d := Diff{ConfigChanged: r.ConfigHash != configHash, ConfigOnly: r.Version == 0}
	was := r.paths()
	seen := map[string]bool{}
	for _, f := range now {
		seen[f.Path] = true
		switch {
		case !was[f.Path]:
			d.Added = append(d.Added, f.Path)
		case !r.accepts(f):
			d.Changed = append(d.Changed, f.Path)
		}
	}
	for p := range was {
		if !seen[p] {
			d.Removed = append(d.Removed, p)
		}
	}
	sort.Strings(d.Changed)
	sort.Strings(d.Added)
	sort.Strings(d.Removed)
	return d
}
