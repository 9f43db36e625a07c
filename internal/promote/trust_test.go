package promote

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/truststore"
)

// markerScript writes a file outside the repository when it runs: what an
// attacker's change to a trusted script would do.
func markerScript(marker string) string {
	return "#!/bin/sh\necho pwned > '" + marker + "'\n"
}

func TestTrustCoversTheScriptsTheCommandsRun(t *testing.T) {
	f := execFixture(t, `"./render.sh"`)
	ws, p, head := trustAndPropose(f)
	st, err := ws.TrustStatus()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Covered) != 1 || st.Covered[0].Path != "render.sh" || st.Files[0].Mode != "100755" || !st.Trusted() {
		t.Fatalf("status %+v", st)
	}
	record, err := os.ReadFile(filepath.Join(f.dir, ".git", truststore.File))
	if err != nil || !strings.Contains(string(record), `"path": "render.sh"`) {
		t.Fatalf("record %s (%v)", record, err)
	}

	// Someone pushes a new render.sh: the configuration is the trusted one,
	// the script is not.
	marker := filepath.Join(t.TempDir(), "marker")
	f.write("render.sh", markerScript(marker))
	f.git("commit", "-q", "-am", "render differently")
	ws, p, head = f.propose()
	_, err = ws.Commit(context.Background(), p, head)
	var ue *UntrustedError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "render.sh changed") || !strings.Contains(err.Error(), "git laminar trust") {
		t.Fatalf("err = %v, want an UntrustedError naming render.sh", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the changed script ran")
	}
	if st := f.git("status", "--porcelain"); st != "" || f.git("rev-parse", "HEAD") != head {
		t.Fatalf("something changed:\n%s", st)
	}

	// Made executable (or not) is a change too.
	if added, err := ws.Trust(); err != nil || !added {
		t.Fatalf("trust: %v %v", added, err)
	}
	f.write("render.sh", renderScript)
	os.Chmod(filepath.Join(f.dir, "render.sh"), 0o644)
	f.git("commit", "-q", "-am", "mode")
	if ok, err := ws.Trusted(); ok || err != nil {
		t.Fatalf("trusted after a content and mode change: %v %v", ok, err)
	}
	if _, err := ws.Trust(); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(f.dir, "render.sh"), 0o755)
	f.git("commit", "-q", "-am", "mode back")
	st, _ = ws.TrustStatus()
	if st.Trusted() || strings.Join(st.Diff.Changed, " ") != "render.sh" {
		t.Fatalf("mode change not seen: %+v", st.Diff)
	}

	// A command that names a new tracked file: added.
	ws.Trust()
	f.write("laminar.toml", strings.Replace(f.read("laminar.toml"), `"./render.sh"`, `"./render.sh", "sh tools/post.sh"`, 1))
	ws2, err := Open(f.dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ws2.Trust()
	os.MkdirAll(filepath.Join(f.dir, "tools"), 0o755)
	f.write("tools/post.sh", "true\n")
	f.git("add", "tools/post.sh")
	st, _ = ws2.TrustStatus()
	if st.Trusted() || strings.Join(st.Diff.Added, " ") != "tools/post.sh" || st.Diff.ConfigChanged {
		t.Fatalf("added file not seen: %+v", st.Diff)
	}
	f.git("rm", "-q", "render.sh")
	st, _ = ws2.TrustStatus()
	if strings.Join(st.Diff.Removed, " ") != "render.sh" {
		t.Fatalf("removed file not seen: %+v", st.Diff)
	}
}

func TestTrustFollowsSymlinks(t *testing.T) {
	f := execFixture(t, `"bin/render"`)
	os.MkdirAll(filepath.Join(f.dir, "bin"), 0o755)
	if err := os.Symlink("../render.sh", filepath.Join(f.dir, "bin/render")); err != nil {
		t.Fatal(err)
	}
	f.git("add", "bin/render")
	f.git("commit", "-q", "-m", "link")
	ws, _, _ := trustAndPropose(f)
	st, _ := ws.TrustStatus()
	if len(st.Files) != 2 || st.Files[0].Path != "bin/render" || st.Files[0].Mode != "120000" || st.Files[1].Path != "render.sh" {
		t.Fatalf("covered %+v", st.Files)
	}
	// The script behind the link changes: not trusted.
	f.write("render.sh", "#!/bin/sh\ntouch pwned\n")
	if ok, _ := ws.Trusted(); ok {
		t.Fatal("the link's target changed and is trusted")
	}
	f.git("checkout", "render.sh")
	// The link is pointed elsewhere: not trusted.
	os.Remove(filepath.Join(f.dir, "bin/render"))
	os.Symlink("/tmp/elsewhere.sh", filepath.Join(f.dir, "bin/render"))
	if st, _ := ws.TrustStatus(); st.Trusted() || !strings.Contains(st.Diff.String(), "bin/render changed") {
		t.Fatalf("a retargeted link is trusted: %v", st.Diff)
	}
}

// Exec_trust may cover the files the rules edit (values.yaml in a chart):
// git-laminar's own commit keeps the trust, both for the files after it
// and, when its push fails and the branch goes back, before it.
func TestOwnCommitsKeepTheTrust(t *testing.T) {
	f := execFixture(t, `"./render.sh"`, `exec_trust = ["*.yaml"]`)
	ws, p, head := trustAndPropose(f)
	res, err := ws.Commit(context.Background(), p, head)
	if err != nil || res.TrustErr != nil {
		t.Fatalf("commit: %v %v", err, res.TrustErr)
	}
	st, _ := ws.TrustStatus()
	if !st.Trusted() {
		t.Fatalf("the trust was lost by our own commit: %v", st.Diff)
	}
	for _, p := range []string{"a.yaml", "b.yaml", "generated.yaml"} {
		found := false
		for _, c := range st.Covered {
			found = found || c.Path == p
		}
		if !found {
			t.Errorf("%s not covered", p)
		}
	}
	f.git("reset", "-q", "--hard", head)
	if st, _ := ws.TrustStatus(); !st.Trusted() {
		t.Fatalf("the state before our commit lost the trust: %v", st.Diff)
	}
	// Anyone else's change under the glob is not trusted.
	f.write("a.yaml", "image: "+f.host+"/acme/app:develop-1\nextra: 1\n")
	f.git("commit", "-q", "-am", "change a covered file")
	if st, _ := ws.TrustStatus(); st.Trusted() || !strings.Contains(st.Diff.String(), "a.yaml changed") {
		t.Fatalf("someone else's change is trusted: %v", st.Diff)
	}
}

func TestProposeSkipsUntrustedRules(t *testing.T) {
	f := newFixture(t)
	f.write("laminar.toml", "[[registry]]\nprefix = \""+f.host+"/acme\"\n\n"+
		"[[update]]\nname = \"render\"\npattern = \"glob:develop-*\"\nfiles = [\"a.yaml\"]\nexec = [\"touch pwned\"]\n\n"+
		"[[update]]\nname = \"plain\"\npattern = \"glob:develop-*\"\nfiles = [\"b.yaml\"]\n")
	f.git("commit", "-q", "-am", "two rules")
	ws, err := Open(f.dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := ws.Repo.Head()
	p, err := ws.Propose(context.Background(), f.reg, Options{SkipUntrusted: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Untrusted) != 1 || p.Untrusted[0].Rule != "render" || p.Untrusted[0].Images[0] != f.host+"/acme/app" ||
		!p.Untrusted[0].Err.Diff.NoRecord {
		t.Fatalf("untrusted %+v", p.Untrusted)
	}
	if len(p.Plan.Promotions) != 1 || p.Plan.Promotions[0].Rule != "plain" || len(p.Changes) != 1 || p.Changes[0].Path != "b.yaml" {
		t.Fatalf("plan %+v", p.Plan)
	}
	if _, err := ws.Commit(context.Background(), p, head); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "pwned")); err == nil {
		t.Fatal("the untrusted command ran")
	}
	if got := f.git("show", "--name-only", "--format=", "HEAD"); got != "b.yaml" {
		t.Errorf("commit holds %q", got)
	}

	// Trusted, nothing is left out.
	ws.Trust()
	f.git("reset", "-q", "--hard", head)
	p, err = ws.Propose(context.Background(), f.reg, Options{SkipUntrusted: true})
	if err != nil || len(p.Untrusted) != 0 || len(p.Plan.Edits) != 2 {
		t.Fatalf("trusted: %v %+v %+v", err, p.Untrusted, p.Plan)
	}
}

func TestTrustRecordKept(t *testing.T) {
	f := execFixture(t, `"./render.sh"`)
	ws, _, _ := trustAndPropose(f)
	record := filepath.Join(f.dir, ".git", truststore.File)

	// A key set by hand, or by a version that recorded only laminar.toml,
	// trusts no file.
	os.Remove(record)
	st, _ := ws.TrustStatus()
	if st.Trusted() || strings.Join(st.Diff.Added, " ") != "render.sh" || st.Diff.ConfigChanged ||
		st.Diff.String() != "only the configuration was trusted, not the files its commands run; render.sh added" {
		t.Fatalf("without the record: %+v %s", st.Diff, st.Diff)
	}
	// A record whose configuration the key does not name (the key was
	// unset by hand) trusts nothing.
	ws.Trust()
	f.git("config", "--unset-all", truststore.Key)
	if st, _ := ws.TrustStatus(); st.Trusted() || !st.Diff.NoRecord {
		t.Fatalf("without the key: %+v", st.Diff)
	}
	// A record that cannot be read trusts nothing, and says why.
	ws.Trust()
	os.WriteFile(record, []byte("{not json"), 0o644)
	if st, _ := ws.TrustStatus(); st.Trusted() || st.RecordErr == nil {
		t.Fatalf("broken record: %+v %v", st.Diff, st.RecordErr)
	}
	ws.Trust()
	if n, err := ws.Revoke(); err != nil || n != 1 {
		t.Fatalf("revoke: %d %v", n, err)
	}
	if _, err := os.Stat(record); !os.IsNotExist(err) {
		t.Errorf("the record is still there: %v", err)
	}
	if n, _ := ws.Revoke(); n != 0 {
		t.Errorf("second revoke removed %d", n)
	}
}
