package promote

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/commitmsg"
	"github.com/google/go-cmp/cmp"
)

func TestFindImage(t *testing.T) {
	images := []string{"docker.io/library/nginx", "r.example.com/acme/app", "r.example.com/beta/app", "r.example.com/acme/api", "r.example.com:5000/acme/web"}
	tests := []struct {
		arg, want, err string
	}{
		{"r.example.com/acme/app", "r.example.com/acme/app", ""},
		{"acme/app", "r.example.com/acme/app", ""},
		{"api", "r.example.com/acme/api", ""},
		{"nginx", "docker.io/library/nginx", ""},
		{"docker.io/nginx", "docker.io/library/nginx", ""},
		{"library/nginx", "docker.io/library/nginx", ""},
		{"web", "r.example.com:5000/acme/web", ""},
		{"app", "", "ambiguous: it could be r.example.com/acme/app, r.example.com/beta/app"},
		{"pp", "", `no image "pp"`},
		{"cme/app", "", `no image "cme/app"`},
		{"app:1.0", "", "without tag"},
	}
	for _, tt := range tests {
		got, err := FindImage(tt.arg, images)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("FindImage(%q) = %q, %v; want %q, %q", tt.arg, got, err, tt.want, tt.err)
		}
	}
}

func TestTagsForCommit(t *testing.T) {
	const sha = "b2ee56fd0123456789abcdef0123456789abcdef"
	tags := []string{
		"develop-b2ee56fd", "main-b2ee56fd-1699999999", "sha-b2ee56f", "sha-" + sha, "b2ee56fd_x",
		"develop-b2ee56fe", "b2ee56", "xb2ee56fd", "develop-52af76b8", "1.2.3", "v1.0.0.b2ee56fd01",
	}
	shorts := []string{"b2ee56fd_x", "develop-b2ee56fd", "main-b2ee56fd-1699999999", "sha-b2ee56f", "v1.0.0.b2ee56fd01"}
	tests := []struct {
		name  string
		tags  []string
		sha   string
		short bool
		want  []string
		err   string
	}{
		{"full form preferred", tags, sha, false, []string{"sha-" + sha}, ""},
		{"short form chosen", tags, sha, true, shorts, ""},
		{"only short forms exist", tags[:3], sha, false, []string{"develop-b2ee56fd", "main-b2ee56fd-1699999999", "sha-b2ee56f"}, ""},
		{"upper case commit", []string{"develop-b2ee56fd"}, strings.ToUpper(sha), false, []string{"develop-b2ee56fd"}, ""},
		{"short commit given", []string{"develop-b2ee56fd", "sha-b2ee56f", "develop-b2ee56fe"}, "b2ee56f", false, []string{"develop-b2ee56fd", "develop-b2ee56fe", "sha-b2ee56f"}, ""},
		{"eight digits given", []string{"develop-b2ee56fd", "sha-b2ee56f", "develop-b2ee56fe"}, "b2ee56fd", false, []string{"develop-b2ee56fd", "sha-b2ee56f"}, ""},
		{"none", []string{"develop-1", "latest"}, sha, false, nil, ""},
		{"too short", tags, "b2ee56", false, nil, "7 to 64"},
		{"not hex", tags, "b2ee56fz", false, nil, "7 to 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TagsForCommit(tt.tags, tt.sha, tt.short)
			if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestProposeSetAndCommit(t *testing.T) {
	f := newFixture(t)
	f.write("c.yaml", "image: "+f.host+"/acme/app:develop-2\n")
	f.write("d.yaml", "image: "+f.host+"/acme/app@sha256:"+strings.Repeat("a", 64)+"\n")
	f.git("add", "c.yaml", "d.yaml")
	f.git("commit", "-q", "-m", "c")
	ws, err := Open(f.dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	refs, err := ws.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	image, err := FindImage("app", Images(refs))
	if err != nil {
		t.Fatal(err)
	}

	_, err = ws.ProposeSet(ctx, f.reg, refs, SetRequest{Image: image, Tag: "develop-9"})
	var missing *MissingTagError
	if !errors.As(err, &missing) {
		t.Fatalf("missing tag: err = %v", err)
	}

	sp, err := ws.ProposeSet(ctx, f.reg, refs, SetRequest{Image: image, Tag: "develop-2"})
	if err != nil {
		t.Fatal(err)
	}
	if got := sp.Plan.Paths(); !cmp.Equal(got, []string{"a.yaml", "b.yaml"}) {
		t.Errorf("paths %v: c.yaml is at develop-2 already", got)
	}
	if len(sp.Skipped) != 1 || sp.Skipped[0].Path != "d.yaml" || !strings.HasPrefix(sp.Digest, "sha256:") {
		t.Errorf("skipped %+v, digest %q", sp.Skipped, sp.Digest)
	}
	msg, err := commitmsg.Set(sp.Plan, image, "develop-2", true)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := ws.Repo.Head()
	res, err := ws.CommitMessage(ctx, sp.Proposal, msg, head)
	if err != nil {
		t.Fatal(err)
	}
	out := f.git("log", "-1", "--format=%(trailers)", res.Hash)
	for _, want := range []string{
		"Laminar-Promote: " + image + " develop-1 -> develop-2",
		"Laminar-Digest: " + image + " " + sp.Digest,
		"Laminar-Release: " + image,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trailers lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Laminar-Rule") {
		t.Errorf("a set has no rule:\n%s", out)
	}

	// Only references at the given tags move (a rollback).
	f.write("a.yaml", "image: "+f.host+"/acme/app:develop-1\n")
	f.git("commit", "-q", "-am", "a back")
	refs, _ = ws.Scan(ctx)
	sp, err = ws.ProposeSet(ctx, f.reg, refs, SetRequest{Image: image, Tag: "develop-1", From: []string{"develop-2"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := sp.Plan.Paths(); !cmp.Equal(got, []string{"b.yaml", "c.yaml"}) {
		t.Errorf("rollback paths %v", got)
	}
	msg, err = commitmsg.Rollback(sp.Plan, image, "develop-1", res.Hash)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ = ws.Repo.Head()
	rb, err := ws.CommitMessage(ctx, sp.Proposal, msg, head)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.git("log", "-1", "--format=%(trailers:key=Laminar-Rollback-Of,valueonly)%(trailers:key=Laminar-Hold,valueonly)", rb.Hash); got != res.Hash+"\n"+image {
		t.Errorf("rollback trailers %q", got)
	}

	// A release changes no file.
	msg, err = commitmsg.Release(image, "rolled back in "+rb.Hash[:7])
	if err != nil {
		t.Fatal(err)
	}
	rel, err := ws.CommitRecord(ctx, msg, rb.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.git("diff-tree", "--no-commit-id", "--name-only", "-r", rel); got != "" {
		t.Errorf("release changed %q", got)
	}
	if got := f.git("log", "-1", "--format=%s|%(trailers:key=Laminar-Release,valueonly)"); got != "Release app|"+image {
		t.Errorf("release commit %q", got)
	}
	if st := f.git("status", "--porcelain"); st != "" {
		t.Errorf("status %q", st)
	}
}
