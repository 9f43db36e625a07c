package plan

import (
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/scan"
	"github.com/google/go-cmp/cmp"
)

// match builds a Match for the reference written at offset off of a file.
func match(t *testing.T, path string, line, off int, written string) scan.Match {
	t.Helper()
	ref, err := imageref.Parse(written)
	if err != nil {
		t.Fatal(err)
	}
	m := scan.Match{Path: path, Line: line, Ref: ref, Kind: scan.Inline, Tag: scan.Span{Start: -1, End: -1}, Digest: scan.Span{Start: -1, End: -1}}
	if ref.Tag != "" {
		i := strings.LastIndex(written, ":"+ref.Tag) + 1
		m.Tag = scan.Span{Start: off + i, End: off + i + len(ref.Tag)}
	}
	if ref.Digest != "" {
		i := strings.Index(written, "@") + 1
		m.Digest = scan.Span{Start: off + i, End: off + i + len(ref.Digest)}
	}
	return m
}

const (
	d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

func TestBuildIsDeterministicAndGroupsPromotions(t *testing.T) {
	a := match(t, "b.yaml", 3, 100, "r.example.com/acme/app:develop-1")
	b := match(t, "a.yaml", 1, 7, "r.example.com/acme/app:develop-1")
	c := match(t, "a.yaml", 9, 50, "r.example.com/acme/api:1.0.0")
	same := match(t, "c.yaml", 1, 0, "r.example.com/acme/web:2.0.0")
	inputs := []Input{
		{Match: a, Rule: "dev", To: "develop-2", ToDigest: d2},
		{Match: b, Rule: "dev", To: "develop-2", ToDigest: d2},
		{Match: c, Rule: "api", To: "1.1.0"},
		{Match: same, Rule: "web", To: "2.0.0"}, // already current: nothing
	}
	p1, err := Build(inputs)
	if err != nil {
		t.Fatal(err)
	}
	// Reversed input gives the same plan.
	rev := []Input{inputs[3], inputs[2], inputs[1], inputs[0]}
	p2, err := Build(rev)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p1, p2); diff != "" {
		t.Fatalf("plan depends on input order:\n%s", diff)
	}
	if got := strings.Join(p1.Paths(), ","); got != "a.yaml,b.yaml" {
		t.Errorf("Paths() = %s", got)
	}
	wantEdits := []Edit{
		{Path: "a.yaml", Line: 1, Span: b.Tag, Old: "develop-1", New: "develop-2"},
		{Path: "a.yaml", Line: 9, Span: c.Tag, Old: "1.0.0", New: "1.1.0"},
		{Path: "b.yaml", Line: 3, Span: a.Tag, Old: "develop-1", New: "develop-2"},
	}
	if diff := cmp.Diff(wantEdits, p1.Edits); diff != "" {
		t.Errorf("edits (-want +got):\n%s", diff)
	}
	wantPromos := []Promotion{
		{Image: "r.example.com/acme/api", From: "1.0.0", To: "1.1.0", Rule: "api", Paths: []string{"a.yaml"}},
		{Image: "r.example.com/acme/app", From: "develop-1", To: "develop-2", Digest: d2, Rule: "dev", Paths: []string{"a.yaml", "b.yaml"}},
	}
	if diff := cmp.Diff(wantPromos, p1.Promotions); diff != "" {
		t.Errorf("promotions (-want +got):\n%s", diff)
	}
}

func TestBuildUpdatesPinnedDigestWithTag(t *testing.T) {
	m := match(t, "Dockerfile", 1, 5, "r.example.com/acme/app:1.0@"+d1)
	p, err := Build([]Input{{Match: m, To: "1.1", ToDigest: d2}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Edits) != 2 || p.Edits[0].New != "1.1" || p.Edits[1].New != d2 || p.Edits[1].Old != d1 {
		t.Fatalf("edits = %+v", p.Edits)
	}
	// Without the new digest a pinned reference cannot be moved honestly.
	if _, err := Build([]Input{{Match: m, To: "1.1"}}); err == nil || !strings.Contains(err.Error(), "pinned by digest") {
		t.Errorf("err = %v, want a refusal naming the pinned digest", err)
	}
}

func TestBuildRefusesHostileValues(t *testing.T) {
	m := match(t, "a.yaml", 1, 0, "r.example.com/acme/app:1.0@"+d1)
	for _, bad := range []Input{
		{Match: m, To: "1.1\nLaminar-Promote: evil", ToDigest: d2},
		{Match: m, To: "-leading-dash", ToDigest: d2},
		{Match: m, To: strings.Repeat("a", 129), ToDigest: d2},
		{Match: m, To: "1.1", ToDigest: "sha256:not-hex"},
		{Match: m, To: "1.1", ToDigest: "md5:abc"},
	} {
		if _, err := Build([]Input{bad}); err == nil || !strings.Contains(err.Error(), "a.yaml:1") {
			t.Errorf("Build(To=%q, ToDigest=%q) err = %v, want refusal naming a.yaml:1", bad.To, bad.ToDigest, err)
		}
	}
}

func TestBuildRejectsConflicts(t *testing.T) {
	m := match(t, "a.yaml", 1, 0, "r.example.com/acme/app:1.0")
	if _, err := Build([]Input{{Match: m, To: "1.1"}, {Match: m, To: "1.2"}}); err == nil {
		t.Error("two different tags at one place accepted")
	}
	p, err := Build([]Input{{Match: m, To: "1.1"}, {Match: m, To: "1.1"}})
	if err != nil || len(p.Edits) != 1 {
		t.Errorf("identical duplicate: edits=%d err=%v", len(p.Edits), err)
	}
	if p, _ := Build(nil); !p.Empty() {
		t.Error("empty input gives a non-empty plan")
	}
}

func TestBuildFollowsADigestUnderTheSameTag(t *testing.T) {
	m := match(t, "a.yaml", 1, 0, "r.example.com/acme/app:stable@"+d1)
	p, err := Build([]Input{{Match: m, To: "stable", ToDigest: d2}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Edits) != 1 || p.Edits[0].Old != d1 || p.Edits[0].New != d2 {
		t.Fatalf("edits = %+v, want only the digest replaced", p.Edits)
	}
	want := []Promotion{{Image: "r.example.com/acme/app", From: d1, To: d2, Digest: d2, Paths: []string{"a.yaml"}}}
	if diff := cmp.Diff(want, p.Promotions); diff != "" {
		t.Errorf("promotions (-want +got):\n%s", diff)
	}
	// The same digest again is no change at all.
	if p, _ := Build([]Input{{Match: m, To: "stable", ToDigest: d1}}); !p.Empty() {
		t.Errorf("unchanged digest produced %+v", p.Edits)
	}
}
