package gitrepo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gitIdent asks git for the identity it would use ("Name <email> ts tz").
func gitIdent(t *testing.T, root, role string) (string, error) {
	t.Helper()
	return gitErr(root, "var", "GIT_"+role+"_IDENT")
}

func TestIdentity(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, root string)
		want  [2]string // author, committer "Name <email>"
	}{
		{
			name:  "local config",
			setup: func(t *testing.T, root string) {},
			want:  [2]string{"Repo Owner <owner@example.com>", "Repo Owner <owner@example.com>"},
		},
		{
			name: "environment wins",
			setup: func(t *testing.T, root string) {
				t.Setenv("GIT_AUTHOR_NAME", "Env Author")
				t.Setenv("GIT_AUTHOR_EMAIL", "author@env")
				t.Setenv("GIT_COMMITTER_EMAIL", "committer@env")
			},
			want: [2]string{"Env Author <author@env>", "Repo Owner <committer@env>"},
		},
		{
			name: "global ~/.gitconfig",
			setup: func(t *testing.T, root string) {
				git(t, root, "config", "--unset", "user.name")
				git(t, root, "config", "--unset", "user.email")
				os.WriteFile(filepath.Join(os.Getenv("HOME"), ".gitconfig"), []byte("[user]\n\tname = Home User\n\temail = home@example.com\n"), 0o644)
			},
			want: [2]string{"Home User <home@example.com>", "Home User <home@example.com>"},
		},
		{
			name: "XDG config, overridden by ~/.gitconfig",
			setup: func(t *testing.T, root string) {
				git(t, root, "config", "--unset", "user.name")
				git(t, root, "config", "--unset", "user.email")
				xdg := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "git")
				os.MkdirAll(xdg, 0o755)
				os.WriteFile(filepath.Join(xdg, "config"), []byte("[user]\n\tname = Xdg User\n\temail = xdg@example.com\n"), 0o644)
				os.WriteFile(filepath.Join(os.Getenv("HOME"), ".gitconfig"), []byte("[User]\n\tEmail = \"home@example.com\"\n"), 0o644)
			},
			want: [2]string{"Xdg User <home@example.com>", "Xdg User <home@example.com>"},
		},
		{
			name: "author.* and committer.*",
			setup: func(t *testing.T, root string) {
				git(t, root, "config", "author.name", "Only Author")
				git(t, root, "config", "committer.email", "only@committer")
			},
			want: [2]string{"Only Author <owner@example.com>", "Repo Owner <only@committer>"},
		},
		{
			name: "includeIf gitdir",
			setup: func(t *testing.T, root string) {
				git(t, root, "config", "--unset", "user.name")
				git(t, root, "config", "--unset", "user.email")
				home := os.Getenv("HOME")
				os.WriteFile(filepath.Join(home, "work.inc"), []byte("[user]\n\temail = work@example.com\n"), 0o644)
				os.WriteFile(filepath.Join(home, "other.inc"), []byte("[user]\n\temail = wrong@example.com\n"), 0o644)
				os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(fmt.Sprintf(
					"[user]\n\tname = Inc User\n\temail = home@example.com\n"+
						"[includeIf \"gitdir:%s/\"]\n\tpath = ~/work.inc\n"+
						"[includeIf \"gitdir:/nowhere/\"]\n\tpath = other.inc\n", filepath.Dir(root))), 0o644)
			},
			want: [2]string{"Inc User <work@example.com>", "Inc User <work@example.com>"},
		},
		{
			name: "include.path and onbranch",
			setup: func(t *testing.T, root string) {
				home := os.Getenv("HOME")
				os.WriteFile(filepath.Join(home, "name.inc"), []byte("[user]\n\tname = Included\n"), 0o644)
				os.WriteFile(filepath.Join(home, "branch.inc"), []byte("[user]\n\temail = main@example.com\n"), 0o644)
				git(t, root, "config", "include.path", filepath.Join(home, "name.inc"))
				git(t, root, "config", "includeIf.onbranch:main.path", filepath.Join(home, "branch.inc"))
			},
			want: [2]string{"Included <main@example.com>", "Included <main@example.com>"},
		},
		{
			name: "git -c and GIT_CONFIG_COUNT",
			setup: func(t *testing.T, root string) {
				t.Setenv("GIT_CONFIG_COUNT", "1")
				t.Setenv("GIT_CONFIG_KEY_0", "user.name")
				t.Setenv("GIT_CONFIG_VALUE_0", "Count User")
				t.Setenv("GIT_CONFIG_PARAMETERS", `'user.email'='o'\''brien@example.com'`)
			},
			want: [2]string{"Count User <o'brien@example.com>", "Count User <o'brien@example.com>"},
		},
		{
			name: "system config unless GIT_CONFIG_NOSYSTEM",
			setup: func(t *testing.T, root string) {
				git(t, root, "config", "--unset", "user.name")
				sys := filepath.Join(t.TempDir(), "gitconfig")
				os.WriteFile(sys, []byte("[user]\n\tname = System User\n"), 0o644)
				t.Setenv("GIT_CONFIG_SYSTEM", sys)
				t.Setenv("GIT_CONFIG_NOSYSTEM", "")
			},
			want: [2]string{"System User <owner@example.com>", "System User <owner@example.com>"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := newRepo(t, nil)
			tc.setup(t, root)
			a, c, err := open(t, root).Identity()
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range []Signature{a, c} {
				got := fmt.Sprintf("%s <%s>", s.Name, s.Email)
				if got != tc.want[i] {
					t.Errorf("identity %d = %q, want %q", i, got, tc.want[i])
				}
				gi, err := gitIdent(t, root, []string{"AUTHOR", "COMMITTER"}[i])
				if err != nil || !strings.HasPrefix(gi, got+" ") {
					t.Errorf("git var says %q (%v), we say %q", gi, err, got)
				}
			}
		})
	}
}

func TestIdentityMissing(t *testing.T) {
	root := newRepo(t, nil)
	git(t, root, "config", "--unset", "user.email")
	_, _, err := open(t, root).Identity()
	if err == nil || !strings.Contains(err.Error(), "user.email") || !strings.Contains(err.Error(), "git config --global") || !strings.Contains(err.Error(), "email unknown") {
		t.Errorf("Identity without email = %v", err)
	}
	t.Setenv("EMAIL", "from-env@example.com")
	a, _, err := open(t, root).Identity()
	if err != nil || a.Email != "from-env@example.com" {
		t.Errorf("Identity with $EMAIL = %+v, %v", a, err)
	}
}

func TestIdentityDates(t *testing.T) {
	root := newRepo(t, nil)
	for _, d := range []string{
		"1700000000 +0130",
		"@1700000000 -0500",
		"Tue, 14 Nov 2023 22:13:20 +0000",
		"2023-11-14T22:13:20+02:00",
		"2023-11-14 22:13:20 -0700",
	} {
		t.Setenv("GIT_AUTHOR_DATE", d)
		a, _, err := open(t, root).Identity()
		if err != nil {
			t.Errorf("GIT_AUTHOR_DATE=%q: %v", d, err)
			continue
		}
		gi, err := gitIdent(t, root, "AUTHOR")
		if err != nil {
			t.Fatal(err)
		}
		want := gi[strings.LastIndex(gi, "> ")+2:]
		if got := fmt.Sprintf("%d %s", a.When.Unix(), a.When.Format("-0700")); got != want {
			t.Errorf("GIT_AUTHOR_DATE=%q: got %s, git says %s", d, got, want)
		}
	}
	t.Setenv("GIT_AUTHOR_DATE", "next tuesday")
	if _, _, err := open(t, root).Identity(); err == nil || !strings.Contains(err.Error(), "GIT_AUTHOR_DATE") {
		t.Errorf("bad date: %v", err)
	}
	t.Setenv("GIT_AUTHOR_DATE", "")
	a, c, err := open(t, root).Identity()
	if err != nil || time.Since(a.When) > time.Minute || time.Since(c.When) > time.Minute {
		t.Errorf("default date: %v %v %v", a.When, c.When, err)
	}
}
