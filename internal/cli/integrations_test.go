package cli

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"
)

// decodeStrict decodes a YAML file into v, refusing keys v does not name:
// a misspelt or misplaced key would otherwise be ignored by the tool that
// reads the file, and by this test.
func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// preCommitHook is a hook of .pre-commit-hooks.yaml, with the fields the
// pre-commit framework documents (https://pre-commit.com/#new-hooks).
type preCommitHook struct {
	ID                      string   `yaml:"id"`
	Name                    string   `yaml:"name"`
	Entry                   string   `yaml:"entry"`
	Language                string   `yaml:"language"`
	Files                   string   `yaml:"files"`
	Exclude                 string   `yaml:"exclude"`
	Types                   []string `yaml:"types"`
	TypesOr                 []string `yaml:"types_or"`
	ExcludeTypes            []string `yaml:"exclude_types"`
	AlwaysRun               bool     `yaml:"always_run"`
	FailFast                bool     `yaml:"fail_fast"`
	Verbose                 bool     `yaml:"verbose"`
	PassFilenames           *bool    `yaml:"pass_filenames"`
	RequireSerial           bool     `yaml:"require_serial"`
	Description             string   `yaml:"description"`
	LanguageVersion         string   `yaml:"language_version"`
	MinimumPreCommitVersion string   `yaml:"minimum_pre_commit_version"`
	Args                    []string `yaml:"args"`
	Stages                  []string `yaml:"stages"`
}

// preCommitStages are the stage names pre-commit 3.2 and later accept.
var preCommitStages = []string{"commit-msg", "post-checkout", "post-commit", "post-merge", "post-rewrite",
	"pre-commit", "pre-merge-commit", "pre-push", "pre-rebase", "prepare-commit-msg", "manual"}

func TestPreCommitHooksFile(t *testing.T) {
	var hooks []preCommitHook
	decodeStrict(t, "../../.pre-commit-hooks.yaml", &hooks)
	if len(hooks) != 1 || hooks[0].ID != "git-laminar-verify" {
		t.Fatalf("want one hook, git-laminar-verify; got %+v", hooks)
	}
	h := hooks[0]
	if h.Name == "" || h.Entry == "" {
		t.Errorf("name and entry are required: %+v", h)
	}
	if h.Language != "golang" && h.Language != "system" {
		t.Errorf("language %q: want golang (built from this module) or system", h.Language)
	}
	// verify reads the whole repository; file names as arguments would be
	// refused ("verify takes no arguments"), and a commit that touches no
	// manifest must still be checked.
	if h.PassFilenames == nil || *h.PassFilenames || !h.AlwaysRun {
		t.Errorf("want pass_filenames: false and always_run: true, got %v and %v", h.PassFilenames, h.AlwaysRun)
	}
	for _, s := range h.Stages {
		if !slices.Contains(preCommitStages, s) {
			t.Errorf("stage %q is not one pre-commit knows", s)
		}
	}
	words := strings.Fields(h.Entry)
	if words[0] != "git-laminar" {
		t.Fatalf("entry %q: the golang language installs the binary git-laminar; run it by that name", h.Entry)
	}
	checkCommandLine(t, "entry", words[1:])
}

// action is a GitHub Actions metadata file (action.yml), with the keys of
// GitHub's metadata syntax that a composite action uses.
type action struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Author      string `yaml:"author"`
	Branding    struct {
		Icon  string `yaml:"icon"`
		Color string `yaml:"color"`
	} `yaml:"branding"`
	Inputs map[string]struct {
		Description        string `yaml:"description"`
		Required           bool   `yaml:"required"`
		Default            string `yaml:"default"`
		DeprecationMessage string `yaml:"deprecationMessage"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID               string            `yaml:"id"`
			If               string            `yaml:"if"`
			Name             string            `yaml:"name"`
			Uses             string            `yaml:"uses"`
			Run              string            `yaml:"run"`
			Shell            string            `yaml:"shell"`
			WorkingDirectory string            `yaml:"working-directory"`
			With             map[string]string `yaml:"with"`
			Env              map[string]string `yaml:"env"`
			ContinueOnError  bool              `yaml:"continue-on-error"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

var inputRef = regexp.MustCompile(`\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}`)

func TestActionFile(t *testing.T) {
	var a action
	decodeStrict(t, "../../action.yml", &a)
	if a.Name == "" || a.Description == "" {
		t.Errorf("name and description are required")
	}
	if a.Runs.Using != "composite" {
		t.Errorf("runs.using = %q, want composite", a.Runs.Using)
	}
	for name, in := range a.Inputs {
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
	}
	used := map[string]bool{}
	var commands int
	installs := false
	for i, st := range a.Runs.Steps {
		if (st.Run == "") == (st.Uses == "") {
			t.Errorf("step %d: set exactly one of run and uses", i)
		}
		if st.Run != "" && st.Shell == "" {
			t.Errorf("step %d: a composite action's run step needs a shell", i)
		}
		// An input pasted into a script is a script injection: whoever
		// sets the input (a workflow fed by an issue title, a branch
		// name) would run commands with the job's token.
		if m := inputRef.FindString(st.Run); m != "" {
			t.Errorf("step %d: %s in a run script; pass inputs through env", i, m)
		}
		for _, s := range append(append([]string{st.WorkingDirectory}, mapValues(st.Env)...), mapValues(st.With)...) {
			for _, m := range inputRef.FindAllStringSubmatch(s, -1) {
				used[m[1]] = true
				if _, ok := a.Inputs[m[1]]; !ok {
					t.Errorf("step %d uses inputs.%s, which is not declared", i, m[1])
				}
			}
		}
		if strings.Contains(st.Run, "go install ./cmd/git-laminar") {
			installs = true
		}
		for _, line := range strings.Split(st.Run, "\n") {
			_, cmd, ok := strings.Cut(line, "git laminar ")
			if !ok {
				continue
			}
			commands++
			var words []string
			for _, w := range strings.Fields(cmd) {
				if w == "--" || w == ";;" || w == ";" {
					break
				}
				words = append(words, w)
			}
			checkCommandLine(t, "action.yml: "+strings.TrimSpace(line), words)
		}
	}
	for name := range a.Inputs {
		if !used[name] {
			t.Errorf("input %s is declared but never used", name)
		}
	}
	if !installs {
		t.Errorf("no step installs git-laminar from the action's own source")
	}
	if commands < 3 {
		t.Errorf("found %d git laminar commands in the steps, want verify, bump and set", commands)
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// checkCommandLine checks that words (a command and its options, without
// the program's name) name a command of the binary and options it has.
func checkCommandLine(t *testing.T, where string, words []string) {
	t.Helper()
	if len(words) == 0 {
		t.Errorf("%s: no command", where)
		return
	}
	app := newApp(Streams{})
	var cmd *cli.Command
	for _, c := range app.Commands {
		if c.Name == words[0] {
			cmd = c
		}
	}
	if cmd == nil {
		t.Errorf("%s: %q is not a command of git-laminar", where, words[0])
		return
	}
	for _, w := range words[1:] {
		name, ok := strings.CutPrefix(w, "--")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, "=")
		found := false
		for _, f := range append(slices.Clone(cmd.Flags), app.Flags...) {
			if slices.Contains(f.Names(), name) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: git laminar %s has no option --%s", where, cmd.Name, name)
		}
	}
}
