package execaction

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/plan"
)

// dir is a working directory for commands, with an empty user-level
// configuration.
func dir(t *testing.T) (string, *config.Config) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home)
	root := t.TempDir()
	return root, &config.Config{Path: filepath.Join(root, "laminar.toml")}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The promotions reach the commands only through the environment: a value
// that looks like shell code stays text.
func TestValuesAreNeverShellCode(t *testing.T) {
	root, cfg := dir(t)
	hostile := `x$(touch pwned)` + "`touch pwned2`;touch pwned3 'q\"\n"
	g := Group{Rule: "dev", Update: config.Update{
		Exec: []string{`printf '%s|%s|%s' "$LAMINAR_IMAGE" "$LAMINAR_FROM" "$LAMINAR_TO" > got.txt; cat "$LAMINAR_PROMOTIONS_FILE" >> got.txt`},
	}, Promotions: []plan.Promotion{{Image: hostile, From: "$(id)", To: "1.0;touch pwned4", Rule: "dev"}}}
	runs, err := RunCommands(context.Background(), root, cfg, []Group{g})
	if err != nil || len(runs) != 1 || runs[0].Rule != "dev" {
		t.Fatalf("RunCommands: %v, %+v", err, runs)
	}
	want := hostile + "|$(id)|1.0;touch pwned4" + hostile + " $(id) -> 1.0;touch pwned4\n"
	if got := read(t, filepath.Join(root, "got.txt")); got != want {
		t.Errorf("got.txt = %q, want %q", got, want)
	}
	for _, name := range []string{"pwned", "pwned2", "pwned3", "pwned4"} {
		if _, err := os.Stat(filepath.Join(root, name)); err == nil {
			t.Errorf("%s exists: a value was run as code", name)
		}
	}
}

func TestEnvironmentIsOurs(t *testing.T) {
	root, cfg := dir(t)
	t.Setenv("LAMINAR_DIGEST", "sha256:stale")
	t.Setenv("LAMINAR_EXTRA", "x")
	g := Group{Rule: "dev", Update: config.Update{Exec: []string{`echo "[$LAMINAR_DIGEST][$LAMINAR_EXTRA][$HOME]" > got.txt`}},
		Promotions: []plan.Promotion{{Image: "i", From: "1", To: "2"}}}
	if _, err := RunCommands(context.Background(), root, cfg, []Group{g}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "got.txt")); got != "[][]["+os.Getenv("HOME")+"]\n" {
		t.Errorf("got %q", got)
	}
}

// A failing command stops the rest, and its error names the rule.
func TestFirstFailureStops(t *testing.T) {
	root, cfg := dir(t)
	g := Group{Rule: "dev", Update: config.Update{Exec: []string{"echo first; exit 3", "touch second"}},
		Promotions: []plan.Promotion{{Image: "i", From: "1", To: "2"}}}
	runs, err := RunCommands(context.Background(), root, cfg, []Group{g})
	var ee *Error
	if err == nil || !errors.As(err, &ee) || ee.Rule != "dev" || !strings.Contains(err.Error(), "first") {
		t.Fatalf("err = %v", err)
	}
	if len(runs) != 1 {
		t.Errorf("%d commands ran, want 1", len(runs))
	}
	if _, err := os.Stat(filepath.Join(root, "second")); err == nil {
		t.Error("the second command ran")
	}
}

func TestGroups(t *testing.T) {
	updates := []config.Update{{Name: "a", Exec: []string{"x"}}, {Name: "b"}, {Exec: []string{"y", "z"}}}
	p := plan.Plan{Promotions: []plan.Promotion{{Image: "i", Rule: "b"}, {Image: "j", Rule: "#3"}, {Image: "k", Rule: "#3"}}}
	gs := Groups(updates, p)
	if len(gs) != 1 || gs[0].Rule != "#3" || len(gs[0].Promotions) != 2 {
		t.Fatalf("Groups = %+v", gs)
	}
	if got := strings.Join(Commands(gs), "|"); got != "#3: y|#3: z" {
		t.Errorf("Commands = %q", got)
	}
}
