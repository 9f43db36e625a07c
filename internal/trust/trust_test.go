package trust

import (
	"slices"
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/google/go-cmp/cmp"
)

const root = "/srv/deploy"

// tracked is the repository the commands below run in.
var tracked = []Entry{
	{Path: "render.sh", Mode: "100755"},
	{Path: "Makefile", Mode: "100644"},
	{Path: "GNUmakefile", Mode: "100644"},
	{Path: "scripts/gen.sh", Mode: "100755"},
	{Path: "scripts/x.sh", Mode: "100644"},
	{Path: "scripts/lib/common.sh", Mode: "100644"},
	{Path: "tools/y.py", Mode: "100644"},
	{Path: "charts/Makefile", Mode: "100644"},
	{Path: "charts/render.mk", Mode: "100644"},
	{Path: "charts/app/values.yaml", Mode: "100644"},
	{Path: "charts/app/templates/deploy.yaml", Mode: "100644"},
	{Path: "my script.sh", Mode: "100755"},
	{Path: "app.yaml", Mode: "100644"},
	{Path: "bin/render", Mode: ModeSymlink, Target: "../scripts/gen.sh"},
	{Path: "bin/away", Mode: ModeSymlink, Target: "/usr/local/bin/render"},
	{Path: "bin/chain", Mode: ModeSymlink, Target: "render"},
	{Path: "shlib", Mode: ModeSymlink, Target: "vendor/lib"},
	{Path: "vendor/lib/run.sh", Mode: "100755"},
	{Path: "vendor/lib/helpers.sh", Mode: "100644"},
	{Path: "vendor/other.sh", Mode: "100644"},
}

func TestCommandFiles(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		want []string // "path kind"
	}{
		{"./render.sh", []string{"render.sh command"}},
		{"render.sh --all", []string{"render.sh command"}},
		{"scripts/gen.sh", []string{"scripts/gen.sh command"}},
		{"sh scripts/x.sh", []string{"scripts/x.sh command"}},
		{"python3 tools/y.py --out x", []string{"tools/y.py command"}},
		{"bash -c './render.sh && scripts/gen.sh'", []string{"render.sh command", "scripts/gen.sh command"}},
		{`"$LAMINAR_REPO_ROOT/render.sh"`, []string{"render.sh command"}},
		{`${LAMINAR_REPO_ROOT}/scripts/gen.sh`, []string{"scripts/gen.sh command"}},
		{"/srv/deploy/render.sh", []string{"render.sh command"}},
		{"/usr/bin/helm template charts/app", nil},
		{`'./my script.sh' x`, []string{"my script.sh command"}},
		{`./my\ script.sh`, []string{"my script.sh command"}},
		{`echo "$(./render.sh)" > out.yaml`, []string{"render.sh command"}},
		{"x=`scripts/gen.sh`; echo $x", []string{"scripts/gen.sh command"}},
		{"GEN=./scripts/gen.sh helm template --values=charts/app/values.yaml", []string{"scripts/gen.sh command", "charts/app/values.yaml command"}},
		{"cd scripts && ./gen.sh", []string{"scripts/gen.sh command"}},
		{"cd scripts; sh lib/common.sh", []string{"scripts/lib/common.sh command"}},
		{"./scripts/../render.sh", []string{"render.sh command"}},
		{"../render.sh", nil},
		// A name in a comment is covered too: naming more is safe.
		{"./render.sh # scripts/gen.sh is not run", []string{"render.sh command", "scripts/gen.sh command"}},
		{"./render.sh 2>&1 | tee log.txt", []string{"render.sh command"}},
		{"bin/render", []string{"bin/render command", "scripts/gen.sh symlink"}},
		{"bin/chain", []string{"bin/chain command", "bin/render symlink", "scripts/gen.sh symlink"}},
		{"bin/away", []string{"bin/away command"}},
		// Through a symlink to a folder: the link and what the folder holds.
		{"sh shlib/run.sh", []string{"shlib command", "vendor/lib/helpers.sh symlink", "vendor/lib/run.sh symlink"}},

		// make reads the makefiles of the folder it runs in.
		{"make manifests", []string{"GNUmakefile makefile", "Makefile makefile"}},
		{"env FOO=1 make -j4 manifests", []string{"GNUmakefile makefile", "Makefile makefile"}},
		{"/usr/bin/make manifests", []string{"GNUmakefile makefile", "Makefile makefile"}},
		{"make -C charts render", []string{"charts/Makefile makefile"}},
		{"make -Ccharts", []string{"charts/Makefile makefile"}},
		{"make --directory=charts", []string{"charts/Makefile makefile"}},
		{"make -C charts -f render.mk", []string{"charts/render.mk makefile"}},
		{"make -f charts/render.mk", []string{"charts/render.mk command", "charts/render.mk makefile"}},
		{"make -sf charts/render.mk all", []string{"charts/render.mk command", "charts/render.mk makefile"}},
		{"make --file=charts/render.mk", []string{"charts/render.mk command", "charts/render.mk makefile"}},
		{"cd charts && make", []string{"charts/Makefile makefile", "GNUmakefile makefile", "Makefile makefile"}},
		{"bash -c 'cd charts && make'", []string{"charts/Makefile makefile", "GNUmakefile makefile", "Makefile makefile"}},
		{`sh -ec "make -f charts/render.mk"`, []string{"charts/render.mk command", "charts/render.mk makefile"}},
		{"cd charts; sh -o pipefail -c make", []string{"charts/Makefile makefile", "GNUmakefile makefile", "Makefile makefile"}},
		{"eval make -C charts", []string{"charts/Makefile makefile"}},
		{"make -C /tmp", nil},
		{"true && make -C ../elsewhere", nil},
		{"gmake -f - < Makefile", []string{"Makefile command"}},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			cfg := execConfig(t, tc.cmd)
			var got []string
			for _, c := range Cover(cfg, tracked, root) {
				for _, r := range c.Reasons {
					got = append(got, c.Path+" "+r.Kind)
				}
			}
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("covered (-want +got):\n%s", diff)
			}
		})
	}
}

// execConfigText is a configuration with one rule that runs cmd, whatever
// it holds (the config package would refuse a NUL).
func execConfigText(cmd string) *config.Config {
	u := config.Update{Name: "dev", Exec: []string{cmd}}
	return &config.Config{Updates: []config.Update{u}}
}

func execConfig(t *testing.T, cmds ...string) *config.Config {
	t.Helper()
	text := "[[registry]]\nprefix = \"registry.example.com/acme\"\n[[update]]\nname = \"dev\"\npattern = \"glob:*\"\nexec = ["
	for i, c := range cmds {
		if i > 0 {
			text += ", "
		}
		text += "'''" + c + "'''"
	}
	cfg, err := config.Parse("laminar.toml", []byte(text+"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestCoverReasons(t *testing.T) {
	text := `[[registry]]
prefix = "registry.example.com/acme"

[[update]]
name = "dev"
pattern = "glob:develop-*"
exec = ["./render.sh", "make manifests"]
exec_trust = ["charts/**"]

[[update]]
pattern = "semver:^1"
exec = ["sh scripts/x.sh ./render.sh"]

[[update]]
name = "plain"
pattern = "glob:*"
`
	cfg, err := config.Parse("laminar.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, c := range Cover(cfg, tracked, root) {
		for _, r := range c.Reasons {
			got[c.Path] = append(got[c.Path], r.String())
		}
	}
	want := map[string][]string{
		"render.sh":                        {"named in ./render.sh (rule dev)", `named in "sh scripts/x.sh ./render.sh" (rule #2)`},
		"Makefile":                         {`makefile of "make manifests" (rule dev)`},
		"GNUmakefile":                      {`makefile of "make manifests" (rule dev)`},
		"charts/Makefile":                  {`exec_trust charts/** (rule dev)`},
		"charts/render.mk":                 {`exec_trust charts/** (rule dev)`},
		"charts/app/values.yaml":           {`exec_trust charts/** (rule dev)`},
		"charts/app/templates/deploy.yaml": {`exec_trust charts/** (rule dev)`},
		"scripts/x.sh":                     {`named in "sh scripts/x.sh ./render.sh" (rule #2)`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
}

func TestReasonEscapesTheRule(t *testing.T) {
	r := Reason{Rule: "dev\x1b[2K", Kind: KindExecTrust, Glob: "charts/**"}
	if got := r.String(); got != `exec_trust charts/** (rule dev\x1b[2K)` {
		t.Errorf("String() = %q", got)
	}
}

func TestQuoteEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"render.sh":        "render.sh",
		"make manifests":   `"make manifests"`,
		"evil\x1b[2K.sh":   `"evil\x1b[2K.sh"`,
		"a\u202eb.sh":      `"a\u202eb.sh"`,
		"line\nLaminar: x": `"line\nLaminar: x"`,
		"bad\xffutf8.sh":   `"bad\xffutf8.sh"`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestCompare(t *testing.T) {
	f := func(p, h string) File { return File{Path: p, Mode: "100644", Hash: h} }
	rec := NewRecord("laminar.toml", "sha256:c1", []File{f("render.sh", "sha256:a"), f("Makefile", "sha256:m"), f("old.sh", "sha256:o")})
	now := []File{f("render.sh", "sha256:b"), f("Makefile", "sha256:m"), f("charts/new.yaml", "sha256:n")}
	d := Compare(rec, "sha256:c2", now)
	want := Diff{ConfigChanged: true, Changed: []string{"render.sh"}, Added: []string{"charts/new.yaml"}, Removed: []string{"old.sh"}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
	if d.Trusted() {
		t.Error("trusted")
	}
	if s := d.String(); s != "the configuration changed; render.sh changed; charts/new.yaml added; old.sh removed" {
		t.Errorf("String() = %q", s)
	}
	// The mode counts: a file made executable is a change.
	exe := File{Path: "Makefile", Mode: "100755", Hash: "sha256:m"}
	if d := Compare(rec, "sha256:c1", []File{f("render.sh", "sha256:a"), exe, f("old.sh", "sha256:o")}); !slices.Equal(d.Changed, []string{"Makefile"}) {
		t.Errorf("mode change: %+v", d)
	}
	if d := Compare(rec, "sha256:c1", []File{f("render.sh", "sha256:a"), f("Makefile", "sha256:m"), f("old.sh", "sha256:o")}); !d.Trusted() {
		t.Errorf("same state not trusted: %+v", d)
	}
	if d := Compare(nil, "sha256:c1", nil); d.Trusted() || !d.NoRecord {
		t.Errorf("no record: %+v", d)
	}
}

func TestAdvanceKeepsBothVersions(t *testing.T) {
	f := func(p, h string) File { return File{Path: p, Mode: "100644", Hash: h} }
	rec := NewRecord("laminar.toml", "sha256:c", []File{f("render.sh", "sha256:r"), f("charts/v.yaml", "sha256:v1")})
	before := []File{f("charts/v.yaml", "sha256:v1"), f("render.sh", "sha256:r")}
	after := []File{f("charts/out.yaml", "sha256:o"), f("charts/v.yaml", "sha256:v2"), f("render.sh", "sha256:r")}
	next := rec.Advance("sha256:c", before, after, map[string]bool{"charts/v.yaml": true, "charts/out.yaml": true, "app.yaml": true})
	if d := Compare(next, "sha256:c", after); !d.Trusted() {
		t.Errorf("after the commit: %v", d)
	}
	// The remote's version, before the commit, stays trusted (a push that
	// failed, a reset).
	if d := Compare(next, "sha256:c", []File{f("charts/out.yaml", "sha256:o"), f("charts/v.yaml", "sha256:v1"), f("render.sh", "sha256:r")}); !d.Trusted() {
		t.Errorf("before the commit: %v", d)
	}
	// Anything else is not.
	if d := Compare(next, "sha256:c", []File{f("charts/out.yaml", "sha256:o"), f("charts/v.yaml", "sha256:v3"), f("render.sh", "sha256:r")}); d.Trusted() {
		t.Error("a third version is trusted")
	}
	// A second commit forgets the first version.
	again := next.Advance("sha256:c", after, []File{f("charts/out.yaml", "sha256:o"), f("charts/v.yaml", "sha256:v3"), f("render.sh", "sha256:r")}, map[string]bool{"charts/v.yaml": true})
	if d := Compare(again, "sha256:c", before); d.Trusted() || !strings.Contains(d.String(), "charts/v.yaml changed") {
		t.Errorf("two commits back: %v", d)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	rec := NewRecord("laminar.toml", "sha256:c", []File{{Path: "z\nx.sh", Mode: "100755", Hash: "sha256:1"}, {Path: "a.sh", Mode: "100644", Hash: "sha256:2"}})
	data, err := rec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rec, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		``, `{}`, `{"version": 2, "config_hash": "sha256:c", "files": []}`,
		`{"version": 1, "config_hash": "md5:c", "files": []}`,
		`{"version": 1, "config_hash": "sha256:c", "files": [{"path": ""}]}`,
		`{"version": 1, "config_hash": "sha256:c", "files": [], "extra": 1}`,
		`{"version": 1, "config_hash": "sha256:c", "files": []} {}`,
	} {
		if _, err := ParseRecord([]byte(bad)); err == nil {
			t.Errorf("ParseRecord(%q) accepted it", bad)
		}
	}
}

// An exec_trust glob over a symlinked folder covers what the folder holds.
func TestExecTrustThroughALinkedFolder(t *testing.T) {
	cfg, err := config.Parse("laminar.toml", []byte("[[registry]]\nprefix = \"registry.example.com/acme\"\n[[update]]\nname = \"dev\"\npattern = \"glob:*\"\nexec = [\"true\"]\nexec_trust = [\"shlib/**\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range Cover(cfg, tracked, root) {
		got = append(got, c.Path+" "+c.Reasons[0].Kind)
	}
	want := []string{"shlib exec_trust", "vendor/lib/helpers.sh symlink", "vendor/lib/run.sh symlink"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("covered (-want +got):\n%s", diff)
	}
}
