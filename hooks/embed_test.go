package hooks

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestShimsCarryTheCurrentMarker(t *testing.T) {
	for _, name := range Names() {
		b, err := Shim(name)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := ParseVersion(b); !ok || v != Version {
			t.Errorf("%s: ParseVersion = %d, %v; want %d", name, v, ok, Version)
		}
		if !strings.HasPrefix(string(b), "#!/bin/sh\n") {
			t.Errorf("%s: does not start with #!/bin/sh", name)
		}
		if !strings.Contains(string(b), `exec git-laminar hook `+name+` "$@"`) {
			t.Errorf("%s: does not hand over to git-laminar hook %s", name, name)
		}
		if out, err := exec.Command("sh", "-n", "-c", string(b)).CombinedOutput(); err != nil {
			t.Errorf("%s: sh -n: %v\n%s", name, err, out)
		}
	}
	if _, err := Shim("post-checkout"); err == nil {
		t.Error("Shim(post-checkout) succeeded")
	}
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		v    int
		ours bool
	}{
		{"#!/bin/sh\n# git-laminar hook shim v1\nexec x\n", 1, true},
		{"#!/bin/sh\r\n# git-laminar hook shim v7\r\n", 7, true},
		{"#!/bin/sh\n# comment\n# git-laminar hook shim v2\n", 2, true},
		{"#!/bin/sh\n# git-laminar hook shim v\n", 0, false},
		{"#!/bin/sh\n# git-laminar hook shim v0\n", 0, true},
		{"#!/bin/sh\n# git-laminar hook shim v+1\n", 0, false},
		{"#!/bin/sh\n# git-laminar hook shim v-1\n", 0, false},
		{"#!/bin/sh\n# git-laminar hook shim v1x\n", 0, false},
		{"# git-laminar hook shim v1\n", 0, false}, // no shebang: not a shim
		{"#!/bin/sh\ngit lfs pre-push \"$@\"\n", 0, false},
		{"#!/bin/sh\n1\n2\n3\n4\n5\n# git-laminar hook shim v1\n", 0, false}, // too far down
		{"", 0, false},
	} {
		v, ok := ParseVersion([]byte(tc.in))
		if v != tc.v || ok != tc.ours {
			t.Errorf("ParseVersion(%q) = %d, %v; want %d, %v", tc.in, v, ok, tc.v, tc.ours)
		}
	}
}

// runShim runs the pre-push shim with PATH set to path only (plus the
// directory of sh), as git would run it.
func runShim(t *testing.T, path string, stdin string) (string, int) {
	t.Helper()
	b, err := Shim("pre-push")
	if err != nil {
		t.Fatal(err)
	}
	hook := filepath.Join(t.TempDir(), "pre-push")
	if err := os.WriteFile(hook, b, 0o755); err != nil {
		t.Fatal(err)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	cmd := exec.Command(sh, hook, "origin", "file:///remote.git")
	cmd.Env = []string{"PATH=" + path}
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func TestShimWithoutBinary(t *testing.T) {
	out, code := runShim(t, t.TempDir(), "")
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(out, "git-laminar is not on PATH; install it (make install) or remove ") ||
		!strings.Contains(out, "/pre-push") {
		t.Errorf("output %q does not explain the missing binary and name the hook", out)
	}
}

func TestShimHandsOver(t *testing.T) {
	bin := t.TempDir()
	fake := "#!/bin/sh\necho \"args: $*\"\necho \"stdin: $(cat)\"\nexit 7\n"
	if err := os.WriteFile(filepath.Join(bin, "git-laminar"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	sh, _ := exec.LookPath("sh")
	cat, _ := exec.LookPath("cat")
	path := bin + string(os.PathListSeparator) + filepath.Dir(sh) + string(os.PathListSeparator) + filepath.Dir(cat)
	out, code := runShim(t, path, "refs/heads/main abc refs/heads/main def\n")
	if code != 7 {
		t.Errorf("exit %d, want the binary's 7", code)
	}
	want := "args: hook pre-push origin file:///remote.git\nstdin: refs/heads/main abc refs/heads/main def\n"
	if out != want {
		t.Errorf("output %q, want %q", out, want)
	}
}
