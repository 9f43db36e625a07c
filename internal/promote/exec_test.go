package promote

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/execaction"
	"github.com/git-laminar/git-laminar/internal/plan"
	"github.com/git-laminar/git-laminar/internal/truststore"
)

// render.sh rewrites a tracked generated file, creates a new one in a new
// folder and records what it was given.
const renderScript = `#!/bin/sh
set -e
printf 'rendered for %s %s -> %s\n' "$LAMINAR_IMAGE" "$LAMINAR_FROM" "$LAMINAR_TO" > generated.yaml
mkdir -p out/deep
{
  echo "rule=$LAMINAR_RULE count=$LAMINAR_COUNT root=$LAMINAR_REPO_ROOT pwd=$(pwd)"
  cat "$LAMINAR_PROMOTIONS_FILE"
  grep -c '"image"' "$LAMINAR_PROMOTIONS_JSON"
} > out/deep/env.txt
`

func execFixture(t *testing.T, exec string, extra ...string) *fixture {
	f := newFixture(t)
	f.write("laminar.toml", "[[registry]]\nprefix = \""+f.host+"/acme\"\n\n[[update]]\nname = \"dev\"\npattern = \"glob:develop-*\"\n"+
		"exec = ["+exec+"]\n"+strings.Join(extra, "\n"))
	f.write("render.sh", renderScript)
	if err := os.Chmod(filepath.Join(f.dir, "render.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.write("generated.yaml", "stale\n")
	f.git("add", ".")
	f.git("commit", "-q", "-m", "exec")
	return f
}

func trustAndPropose(f *fixture) (*Workspace, *Proposal, string) {
	ws, p, head := f.propose()
	if _, err := ws.Trust(); err != nil {
		f.t.Fatal(err)
	}
	return ws, p, head
}

func TestExecResultsAreCommitted(t *testing.T) {
	f := execFixture(t, `"./render.sh"`)
	f.write("scratch.txt", "the user's untracked file\n")
	ws, p, head := trustAndPropose(f)

	res, err := ws.Commit(context.Background(), p, head)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.git("show", "--name-status", "--format=", res.Hash); got != "M\ta.yaml\nM\tb.yaml\nM\tgenerated.yaml\nA\tout/deep/env.txt" {
		t.Errorf("commit holds:\n%s", got)
	}
	if strings.Join(res.ExecPaths, " ") != "generated.yaml out/deep/env.txt" {
		t.Errorf("ExecPaths %q", res.ExecPaths)
	}
	if len(res.Exec) != 1 || res.Exec[0].Rule != "dev" || res.Exec[0].Command != "./render.sh" {
		t.Errorf("Exec %+v", res.Exec)
	}
	image := f.host + "/acme/app"
	if got := f.read("generated.yaml"); got != "rendered for "+image+" develop-1 -> develop-2\n" {
		t.Errorf("generated.yaml = %q", got)
	}
	want := "rule=dev count=1 root=" + f.dir + " pwd=" + f.dir + "\n" + image + " develop-1 -> develop-2\n1\n"
	if got := f.read("out/deep/env.txt"); got != want {
		t.Errorf("env.txt:\n%s\nwant:\n%s", got, want)
	}
	if st := f.git("status", "--porcelain"); st != "?? scratch.txt" {
		t.Errorf("status:\n%s", st)
	}
	f.git("fsck", "--strict", "--no-progress")
}

func TestExecFailureRestoresEveryFile(t *testing.T) {
	f := execFixture(t, `"./render.sh", "echo half-way >> scratch.txt; echo broken >&2; exit 3"`)
	f.write("scratch.txt", "the user's untracked file\n")
	ws, p, head := trustAndPropose(f)

	_, err := ws.Commit(context.Background(), p, head)
	var ee *execaction.Error
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v, want an execaction.Error", err)
	}
	msg := err.Error()
	for _, want := range []string{`exec action "echo half-way`, "of rule dev failed: exit status 3", "its output:\n    broken", "Every file was restored"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if got := f.git("rev-parse", "HEAD"); got != head {
		t.Errorf("HEAD moved to %s", got)
	}
	if st := f.git("status", "--porcelain", "--untracked-files=all"); st != "?? scratch.txt" {
		t.Errorf("status after failure:\n%s", st)
	}
	if f.read("scratch.txt") != "the user's untracked file\n" || f.read("generated.yaml") != "stale\n" {
		t.Error("files not restored")
	}
	if _, err := os.Stat(filepath.Join(f.dir, "out")); !os.IsNotExist(err) {
		t.Errorf("the folder the action created is still there: %v", err)
	}
}

func TestExecRefusesUntrustedConfig(t *testing.T) {
	f := execFixture(t, `"touch pwned"`)
	ws, p, head := f.propose()
	_, err := ws.Commit(context.Background(), p, head)
	var ue *UntrustedError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "git laminar trust") {
		t.Fatalf("err = %v, want UntrustedError", err)
	}
	if strings.Join(ue.Commands, "|") != "dev: touch pwned" || ue.Hash != ws.Config.Hash {
		t.Errorf("error %+v", ue)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "pwned")); err == nil {
		t.Error("the untrusted command ran")
	}
	if st := f.git("status", "--porcelain"); st != "" {
		t.Errorf("files changed:\n%s", st)
	}

	// Trusted: it runs. Then a change to laminar.toml (even one pushed by
	// someone else) is untrusted again.
	if added, err := ws.Trust(); err != nil || !added {
		t.Fatalf("trust: %v %v", added, err)
	}
	if got := f.git("config", "--local", "--get-all", truststore.Key); got != ws.Config.Hash {
		t.Errorf("recorded %q", got)
	}
	if _, err := ws.Commit(context.Background(), p, head); err != nil {
		t.Fatal(err)
	}
	f.git("reset", "-q", "--hard", head)
	os.Remove(filepath.Join(f.dir, "pwned"))
	f.write("laminar.toml", strings.Replace(f.read("laminar.toml"), "touch pwned", "touch pwned2", 1))
	f.git("commit", "-q", "-am", "change the command")
	ws2, p2, head2 := f.propose()
	if ok, _ := ws2.Trusted(); ok {
		t.Fatal("a changed configuration is trusted")
	}
	if _, err := ws2.Commit(context.Background(), p2, head2); !errors.As(err, &ue) {
		t.Fatalf("err = %v, want UntrustedError", err)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "pwned2")); err == nil {
		t.Error("the changed command ran")
	}
	if _, err := ws2.Trust(); err != nil {
		t.Fatal(err)
	}
	if got := f.git("config", "--local", "--get-all", truststore.Key); got != ws2.Config.Hash {
		t.Errorf("trust kept the old hash: %q", got)
	}
	if n, err := ws2.Revoke(); err != nil || n != 1 {
		t.Errorf("revoke: %d %v", n, err)
	}
}

func TestExecMayNotTouchUncommittedWork(t *testing.T) {
	f := execFixture(t, `"echo more >> notes.txt"`)
	f.write("notes.txt", "committed\n")
	f.git("add", "notes.txt")
	f.git("commit", "-q", "-m", "notes")
	f.write("notes.txt", "committed\nthe user's uncommitted line\n")
	ws, p, head := trustAndPropose(f)
	_, err := ws.Commit(context.Background(), p, head)
	var ce *execaction.ChangeError
	if !errors.As(err, &ce) || ce.Path != "notes.txt" || !strings.Contains(err.Error(), "uncommitted changes") {
		t.Fatalf("err = %v", err)
	}
	if got := f.read("notes.txt"); got != "committed\nthe user's uncommitted line\n" {
		t.Errorf("notes.txt = %q", got)
	}
	if st := f.git("status", "--porcelain"); st != "M notes.txt" {
		t.Errorf("status:\n%s", st)
	}
}

func TestExecTimeout(t *testing.T) {
	f := execFixture(t, `"sleep 30 & sleep 30"`, `exec_timeout = "300ms"`)
	ws, p, head := trustAndPropose(f)
	start := time.Now()
	_, err := ws.Commit(context.Background(), p, head)
	var ee *execaction.Error
	if !errors.As(err, &ee) || ee.TimedOut != 300*time.Millisecond || !strings.Contains(err.Error(), "did not finish within 300ms") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
	if st := f.git("status", "--porcelain"); st != "" {
		t.Errorf("status:\n%s", st)
	}
}

func TestExecFilesRestoredWhenTheCommitFails(t *testing.T) {
	f := execFixture(t, `"./render.sh"`)
	ws, p, head := trustAndPropose(f)
	f.write("other.txt", "x\n")
	f.git("add", "other.txt")
	f.git("commit", "-q", "-m", "someone else")
	moved := f.git("rev-parse", "HEAD")
	_, err := ws.Commit(context.Background(), p, head)
	if err == nil || !strings.Contains(err.Error(), "files restored") {
		t.Fatalf("err = %v", err)
	}
	if got := f.git("rev-parse", "HEAD"); got != moved {
		t.Errorf("HEAD = %s", got)
	}
	if st := f.git("status", "--porcelain", "--untracked-files=all"); st != "" {
		t.Errorf("status:\n%s", st)
	}
	if got := f.git("ls-files", "out"); got != "" {
		t.Errorf("index still holds %q", got)
	}
}

// An action's output is shown in the error indented and escaped: it cannot
// clear the terminal or print a line that passes for ours.
func TestExecOutputIsEscaped(t *testing.T) {
	f := execFixture(t, `"printf 'ok\\033[2J\\r\\nLaminar-Promote: evil 1 -> 2\\n'; exit 1"`)
	ws, p, head := trustAndPropose(f)
	_, err := ws.Commit(context.Background(), p, head)
	if err == nil {
		t.Fatal("the failing action did not fail the commit")
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\x1b\r") {
		t.Errorf("raw control characters in the error: %q", msg)
	}
	if !strings.Contains(msg, "its output:\n    ok\\x1b[2J\n    Laminar-Promote: evil 1 -> 2\n") {
		t.Errorf("output not shown indented and escaped: %q", msg)
	}
	for _, line := range strings.Split(msg, "\n") {
		if strings.HasPrefix(line, "Laminar-Promote:") {
			t.Errorf("a line of the output passes for a trailer: %q", line)
		}
	}
}

// Exec actions run without the variables git laminar reads secrets from:
// registry passwords named in the user-level file, the webhook URL, the
// SSH key's passphrase. Everything else they need is there.
func TestExecEnvironmentWithoutSecrets(t *testing.T) {
	f := execFixture(t, `"env > env.txt"`, "[notify]\nurl_env = \"HOOK_URL\"\n")
	userFile := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "git-laminar", "config.toml")
	if err := os.MkdirAll(filepath.Dir(userFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(userFile, []byte("[[registry]]\nprefix = \"ghcr.io\"\nusername = \"me\"\npassword_env = \"GHCR_TOKEN\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"GHCR_TOKEN": "ghcr-s3cret", "HOOK_URL": "https://hooks.example.com/services/s3cret",
		"LAMINAR_SSH_KEY_PASSPHRASE": "passphrase-s3cret",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	t.Setenv("ORDINARY_SETTING", "kept")
	ws, p, head := trustAndPropose(f)
	if _, err := ws.Commit(context.Background(), p, head); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(f.read("env.txt"), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			got[k] = v
		}
	}
	for k, v := range secrets {
		if _, ok := got[k]; ok {
			t.Errorf("%s reached the exec action", k)
		}
		if strings.Contains(f.read("env.txt"), v) {
			t.Errorf("the value of %s reached the exec action", k)
		}
	}
	for k, want := range map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"), "ORDINARY_SETTING": "kept",
		execaction.EnvImage: f.host + "/acme/app", execaction.EnvFrom: "develop-1", execaction.EnvTo: "develop-2", execaction.EnvRule: "dev", execaction.EnvRepoRoot: f.dir,
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
	for _, k := range []string{execaction.EnvPromotionsFile, execaction.EnvPromotionsJSON, execaction.EnvConfig, execaction.EnvCount} {
		if got[k] == "" {
			t.Errorf("%s missing", k)
		}
	}

	// A user-level file that does not parse stops the commands: which
	// variables to keep back is not known.
	if err := os.WriteFile(userFile, []byte("[[registry]]\nprefix = \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := execaction.Group{Rule: "dev", Update: config.Update{Exec: []string{"touch ran"}}, Promotions: []plan.Promotion{{Image: "i", From: "1", To: "2"}}}
	_, err := execaction.RunCommands(context.Background(), ws.Repo.Root, ws.Config, []execaction.Group{g})
	if err == nil || !strings.Contains(err.Error(), userFile+":2") {
		t.Errorf("err = %v, want the user-level file's error", err)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "ran")); err == nil {
		t.Error("the command ran")
	}
}
