package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestGitTable(t *testing.T) {
	t.Setenv("HOME", "/home/ci")
	cfg, err := Parse("/repo/laminar.toml", []byte(`[git]
remote = "upstream"
branch = "deploy"
known_hosts = ["keys/known_hosts", "/etc/ssh/ssh_known_hosts"]
retries = 5
`))
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Git
	if g.Remote != "upstream" || g.Branch != "deploy" || *g.Retries != 5 {
		t.Errorf("git = %+v", g)
	}
	if len(g.KnownHosts) != 2 || g.KnownHosts[0] != filepath.FromSlash("/repo/keys/known_hosts") {
		t.Errorf("known_hosts = %q", g.KnownHosts)
	}

	u, err := ParseUser("/home/ci/.config/git-laminar/config.toml", []byte("[git]\nssh_key = \"/keys/id\"\nknown_hosts = \"/keys/hosts\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if u, err := ParseUser("/home/ci/.config/git-laminar/config.toml", []byte("[git]\nssh_key = \"~/.ssh/laminar_ed25519\"\n")); err != nil || u.Git.SSHKey != filepath.FromSlash("/home/ci/.ssh/laminar_ed25519") {
		t.Errorf("ssh_key = %q, %v", u.Git.SSHKey, err)
	}
	if cfg.Git.Verify != nil {
		t.Errorf("verify = %v without the key", *cfg.Git.Verify)
	}
	if v, err := Parse("/repo/laminar.toml", []byte("[git]\nverify = false\n")); err != nil || v.Git.Verify == nil || *v.Git.Verify {
		t.Errorf("verify = false: %+v, %v", v, err)
	} else if m := v.Git.Merge(Git{}); m.Verify == nil || *m.Verify {
		t.Errorf("merge lost verify: %+v", m)
	}
	m := cfg.Git.Merge(u.Git)
	if m.SSHKey != "/keys/id" || m.KnownHosts[0] != "/keys/hosts" || m.Remote != "upstream" || *m.Retries != 5 {
		t.Errorf("merged = %+v", m)
	}
}

func TestGitTableErrors(t *testing.T) {
	for text, want := range map[string]string{
		"[git]\nretries = -1\n":                 "laminar.toml:2: git.retries: -1 is not between 0 and 100",
		"[git]\nbranch = \"refs/heads/main\"\n": "git.branch",
		"[git]\nknown_hosts = 3\n":              "git.known_hosts: give a path or a list of paths",
		"[git]\nssh-key = \"x\"\n":              `did you mean "ssh_key"?`,
		"[git]\nremote = \"a b\"\n":             "git.remote",
		"[git]\nverify = \"no\"\n":              "laminar.toml:2: git.verify: no is not true or false",
		"[git]\nverify = 0\n":                   "git.verify: 0 is not true or false",
	} {
		_, err := Parse("laminar.toml", []byte(text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", text, err, want)
		}
	}
}
