package fleet

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const good = `token_env = "LAMINAR_TOKEN"
concurrency = 2

[[repository]]
name = "payments"
url = "git@git.example.com:acme/payments-deploy.git"
branch = "main"
ssh_key = "/etc/laminar/id_ed25519"
known_hosts = ["/etc/laminar/known_hosts"]
interval = "2m"

[[repository]]
name = "web.prod"
url = "https://git.example.com/acme/web.git"
config = "deploy/laminar.toml"
pull_request = true

[webhooks.distribution]
secret_env = "DIST_SECRET"
`

func TestParseGood(t *testing.T) {
	f, err := Parse("fleet.toml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if f.TokenEnv != "LAMINAR_TOKEN" || f.Concurrency != 2 || len(f.Repositories) != 2 {
		t.Fatalf("got %+v", f)
	}
	p := f.Repositories[0]
	if p.Name != "payments" || p.Branch != "main" || p.Interval != 2*time.Minute || p.SSHKey != "/etc/laminar/id_ed25519" || p.Line != 4 {
		t.Errorf("payments: %+v", p)
	}
	w := f.Repositories[1]
	if w.Interval != DefaultInterval || !w.PullRequest || w.Config != "deploy/laminar.toml" || w.Line != 12 {
		t.Errorf("web.prod: %+v", w)
	}
	if f.Webhooks["distribution"].SecretEnv != "DIST_SECRET" {
		t.Errorf("webhooks: %+v", f.Webhooks)
	}
}

func TestParseErrors(t *testing.T) {
	repo := func(extra string) string {
		return "[[repository]]\nname = \"a\"\nurl = \"file:///srv/a.git\"\n" + extra
	}
	tests := []struct {
		name, text, want string
	}{
		{"no repository", "token_env = \"X\"\n", `fleet.toml: repository: no [[repository]] table`},
		{"unknown key", repo("intervall = \"5m\"\n"), `fleet.toml:4: repository.intervall: unknown key`},
		{"unknown top key", "tokenenv = \"X\"\n" + repo(""), `fleet.toml:1: tokenenv: unknown key`},
		{"bad interval", repo("interval = \"often\"\n"), `fleet.toml:4: repository "a".interval: "often" is not a duration`},
		{"short interval", repo("interval = \"1s\"\n"), `fleet.toml:4: repository "a".interval: 1s is shorter than 10s`},
		{"interval type", repo("interval = 5\n"), `fleet.toml:4`},
		{"traversal name", "[[repository]]\nname = \"../../etc\"\nurl = \"file:///x\"\n", `fleet.toml:2: repository "../../etc".name: "../../etc": a name is`},
		{"dot name", "[[repository]]\nname = \"..\"\nurl = \"file:///x\"\n", `fleet.toml:2: repository "..".name:`},
		{"slash name", "[[repository]]\nname = \"a/b\"\nurl = \"file:///x\"\n", `fleet.toml:2: repository "a/b".name:`},
		{"dotdot inside", "[[repository]]\nname = \"a..b\"\nurl = \"file:///x\"\n", `may not hold ".."`},
		{"missing name", "[[repository]]\nurl = \"file:///x\"\n", `fleet.toml:1: repository #1.name: missing`},
		{"duplicate", repo("") + repo(""), `fleet.toml:5: repository "a".name: the name is taken by the repository at line 1`},
		{"option url", "[[repository]]\nname = \"a\"\nurl = \"--upload-pack=touch /tmp/x\"\n", `fleet.toml:3: repository "a".url: "--upload-pack=touch /tmp/x" starts with '-'`},
		{"ext url", "[[repository]]\nname = \"a\"\nurl = \"ext::sh -c touch% /tmp/x\"\n", `the ext transport runs commands`},
		{"password url", "[[repository]]\nname = \"a\"\nurl = \"https://u:secret@git.example.com/a.git\"\n", `holds a password`},
		{"odd scheme", "[[repository]]\nname = \"a\"\nurl = \"gopher://x/a\"\n", `scheme "gopher"`},
		{"config escapes", repo("config = \"../../etc/laminar.toml\"\n"), `fleet.toml:4: repository "a".config: "../../etc/laminar.toml" leaves the repository`},
		{"config absolute", repo("config = \"/etc/laminar.toml\"\n"), `is absolute`},
		{"relative key", repo("ssh_key = \"id_rsa\"\n"), `fleet.toml:4: repository "a".ssh_key: "id_rsa" is relative`},
		{"bad branch", repo("branch = \"--force\"\n"), `fleet.toml:4: repository "a".branch: "--force" is not a branch name`},
		{"bad token env", "token_env = \"A B\"\n" + repo(""), `fleet.toml:1: token_env: "A B" is not an environment variable name`},
		{"concurrency", "concurrency = 0\n" + repo(""), `fleet.toml:1: concurrency: 0 is not between 1 and 64`},
		{"unknown source", repo("") + "[webhooks.bitbucket]\nsecret_env = \"X\"\n", `fleet.toml:4: webhooks.bitbucket: unknown source`},
		{"secret missing", repo("") + "[webhooks.harbor]\n", `fleet.toml:4: webhooks.harbor.secret_env: missing`},
		{"syntax", repo("name = \n"), `fleet.toml:4`},
		{"not utf8", "\xff\xfe", `fleet.toml: not UTF-8`},
		{"escape in message", "[[repository]]\nname = \"a\\u001b[31m\"\nurl = \"file:///x\"\n", `\x1b[31m`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("fleet.toml", []byte(tt.text))
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.text)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\x1b\n") {
				t.Fatalf("error holds a control character: %q", err)
			}
		})
	}
}

func TestRelativeURL(t *testing.T) {
	f, err := Parse("/etc/laminar/fleet.toml", []byte("[[repository]]\nname = \"a\"\nurl = \"../remotes/a.git\"\n[[repository]]\nname = \"b\"\nurl = \"git@host:acme/b.git\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Repositories[0].URL; got != "/etc/remotes/a.git" {
		t.Errorf("relative path: %q", got)
	}
	if got := f.Repositories[1].URL; got != "git@host:acme/b.git" {
		t.Errorf("scp-like address: %q", got)
	}
}

func TestShard(t *testing.T) {
	if _, err := ParseShard("3/3"); err == nil {
		t.Error("3/3 accepted")
	}
	for _, bad := range []string{"", "1", "a/b", "-1/2", "0/0", "1/2/3"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Every repository lands in exactly one shard of three, and the
	// shards are not all empty.
	var text strings.Builder
	for i := range 30 {
		fmt.Fprintf(&text, "[[repository]]\nname = \"repo-%d\"\nurl = \"file:///srv/%d.git\"\n", i, i)
	}
	f, err := Parse("fleet.toml", []byte(text.String()))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i := range 3 {
		s, err := ParseShard(fmt.Sprintf("%d/3", i))
		if err != nil {
			t.Fatal(err)
		}
		got := f.Select(s)
		if len(got) == 0 || len(got) == 30 {
			t.Errorf("shard %d took %d of 30", i, len(got))
		}
		for _, r := range got {
			seen[r.Name]++
		}
	}
	for _, r := range f.Repositories {
		if seen[r.Name] != 1 {
			t.Errorf("%s is in %d shards", r.Name, seen[r.Name])
		}
	}
	if all := f.Select(Shard{}); len(all) != 30 {
		t.Errorf("no shard took %d", len(all))
	}
}
