package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseRegistryAccess(t *testing.T) {
	text := `[[registry]]
name = "quay"
prefix = "quay.io/acme/"
username = "acme+robot"
password_file = "secrets/quay"
ca_file = "/etc/ssl/corp.pem"
page_size = 50
max_tags = 2000
rps = 2.5
concurrency = 4
timeout = "20s"

[[registry]]
prefix = "10.0.0.5:5000"
insecure = true
cert_file = "~/certs/me.pem"
key_file = "~/certs/me.key"

[[registry]]
prefix = "harbor.example.com"
api = "harbor"

[[registry]]
prefix = "127.0.0.1:5000"
api = "dockerhub"
api_url = "http://127.0.0.1:5001/"

[cache]
ttl = "0"
dir = "cache"
`
	// The user-level file: credentials are refused in laminar.toml (see
	// TestUserKeysRefused); both files build Access the same way.
	dir := t.TempDir()
	home, _ := os.UserHomeDir()
	path := filepath.Join(dir, "config.toml")
	u, err := ParseUser(path, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []Access{{
		Prefix: "quay.io/acme", Username: "acme+robot", PasswordFile: filepath.Join(dir, "secrets/quay"),
		CAFile: "/etc/ssl/corp.pem", PageSize: 50, MaxTags: 2000, RPS: 2.5, Concurrency: 4, Timeout: 20 * time.Second,
		Source: path + ":1",
	}, {
		Prefix: "10.0.0.5:5000", Insecure: true, CertFile: filepath.Join(home, "certs/me.pem"), KeyFile: filepath.Join(home, "certs/me.key"),
		Source: path + ":13",
	}, {
		Prefix: "harbor.example.com", API: "harbor", Source: path + ":19",
	}, {
		Prefix: "127.0.0.1:5000", API: "dockerhub", APIURL: "http://127.0.0.1:5001", Source: path + ":23",
	}}
	if diff := cmp.Diff(want, u.Registries); diff != "" {
		t.Errorf("access (-want +got):\n%s", diff)
	}
	if u.Cache.TTL == nil || *u.Cache.TTL != 0 || u.Cache.Dir != filepath.Join(dir, "cache") {
		t.Errorf("cache = %+v", u.Cache)
	}
}

func TestParseRegistryAccessErrors(t *testing.T) {
	reg := "[[registry]]\nprefix = \"ghcr.io/acme\"\n"
	tests := []struct{ name, text, want string }{
		{"literal password", reg + "password = \"hunter2\"\n", "laminar.toml:3: registry.password: secrets do not belong in configuration files"},
		{"literal token", reg + "token = \"ghp_x\"\n", "password_env or password_file"},
		{"both secrets", reg + "username = \"u\"\npassword_env = \"A\"\npassword_file = \"f\"\n", "config.toml:5: registry #1.password_file: set password_env or password_file, not both"},
		{"username alone", reg + "username = \"u\"\n", "config.toml:3: registry #1.username: needs password_env or password_file"},
		{"secret without username", reg + "password_env = \"GHCR_TOKEN\"\n", "config.toml:3: registry #1.password_env: needs a username"},
		{"value instead of variable", reg + "username = \"u\"\npassword_env = \"$TOKEN\"\n", "config.toml:4: registry #1.password_env: \"$TOKEN\": give the name of an environment variable"},
		{"cert without key", reg + "cert_file = \"c.pem\"\n", "config.toml:1: registry #1.key_file: cert_file needs key_file"},
		{"key without cert", reg + "key_file = \"k.pem\"\n", "config.toml:1: registry #1.cert_file: key_file needs cert_file"},
		{"page size zero", reg + "page_size = 0\n", "laminar.toml:3: registry #1.page_size: 0 is not between 1 and 10000"},
		{"negative max_tags", reg + "max_tags = -1\n", "max_tags: -1 is not between"},
		{"rps zero", reg + "rps = 0.0\n", "laminar.toml:3: registry #1.rps: 0: must be a finite number of requests per second, more than 0"},
		{"rps negative", reg + "rps = -1.5\n", "laminar.toml:3: registry #1.rps: -1.5: must be a finite"},
		{"rps nan", reg + "rps = nan\n", "laminar.toml:3: registry #1.rps: NaN: must be a finite"},
		{"rps -nan", reg + "rps = -nan\n", "laminar.toml:3: registry #1.rps: NaN: must be a finite"},
		{"rps inf", reg + "rps = inf\n", "laminar.toml:3: registry #1.rps: +Inf: must be a finite"},
		{"rps -inf", reg + "rps = -inf\n", "laminar.toml:3: registry #1.rps: -Inf: must be a finite"},
		{"rps as string", reg + "rps = \"fast\"\n", "laminar.toml:3: "},
		{"bad timeout", reg + "timeout = \"soon\"\n", `timeout: "soon" is not a duration`},
		{"typo", reg + "pagesize = 10\n", `did you mean "page_size"?`},
		{"unknown api", reg + "api = \"artifactory\"\n", `laminar.toml:3: registry #1.api: "artifactory" is not an API git laminar speaks: leave api out to choose by the registry's host name, or set one of "auto", "oci", "harbor", "ecr", "dockerhub", "quay", "ghcr", "gar", "acr", "gitlab"`},
		{"api misspelt", reg + "api = \"Harbour\"\n", `; did you mean "harbor"?`},
		{"api misspelt docker hub", reg + "api = \"docker-hub\"\n", `laminar.toml:3: registry #1.api: "docker-hub" is not an API git laminar speaks: leave api out to choose by the registry's host name, or set one of "auto", "oci", "harbor", "ecr", "dockerhub", "quay", "ghcr", "gar", "acr", "gitlab"; did you mean "dockerhub"?`},
		{"api_url in laminar.toml", reg + "api_url = \"https://evil.example.com\"\n", `laminar.toml:3: registry #1.api_url: reads a secret or presents a credential, so it is not taken from laminar.toml`},
		{"api_url not a URL", reg + "api_url = \"hub.example.com\"\n", `config.toml:3: registry #1.api_url: "hub.example.com" is not a URL like https://hub.example.com (scheme and host, no path)`},
		{"api_url with a path", reg + "api_url = \"https://hub.example.com/v2\"\n", `config.toml:3: registry #1.api_url: "https://hub.example.com/v2" is not a URL like`},
		{"api_url with a user", reg + "api_url = \"https://me:pw@hub.example.com\"\n", `config.toml:3: registry #1.api_url: `},
		{"api_url ftp", reg + "api_url = \"ftp://hub.example.com\"\n", `config.toml:3: registry #1.api_url: `},
		{"api not a string", reg + "api = true\n", "laminar.toml:3: "},
		{"api key typo", reg + "apis = \"harbor\"\n", `did you mean "api"?`},
		{"bad ttl", "[cache]\nttl = \"a while\"\n", `laminar.toml:2: cache.ttl: "a while" is not a duration`},
		{"unknown cache key", "[cache]\nsize = 1\n", "cache.size: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if strings.HasPrefix(tt.want, "config.toml") {
				_, err = ParseUser("config.toml", []byte(tt.text))
			} else {
				_, err = Parse("laminar.toml", []byte(tt.text))
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestUser(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "git-laminar", "config.toml")
	if u, err := LoadUser(p); err != nil || len(u.Registries) != 0 || u.Path != p {
		t.Fatalf("missing file: %+v, %v", u, err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	text := "[[registry]]\nprefix = \"ghcr.io\"\nusername = \"me\"\npassword_file = \"ghcr-token\"\nrps = 5.0\n\n[cache]\nttl = \"90s\"\n"
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	u, err := LoadUser(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []Access{{Prefix: "ghcr.io", Username: "me", PasswordFile: filepath.Join(dir, "git-laminar", "ghcr-token"), RPS: 5, Source: p + ":1"}}
	if diff := cmp.Diff(want, u.Registries); diff != "" {
		t.Errorf("registries (-want +got):\n%s", diff)
	}
	if u.Cache.TTL == nil || *u.Cache.TTL != 90*time.Second {
		t.Errorf("cache = %+v", u.Cache)
	}

	for _, tt := range []struct{ text, want string }{
		{"[[registry]]\nusername = \"me\"\n", "config.toml:1: registry #1.prefix: missing"},
		{"[[update]]\npattern = \"glob:*\"\n", "config.toml:1: update: unknown key"},
		{"[[registry]]\nprefix = \"ghcr.io\"\npassword = \"x\"\n", "config.toml:3: registry.password: secrets do not belong"},
		{"[[registry]]\nname = \"h\"\nprefix = \"harbor.example.com\"\napi = \"harbr\"\n", `config.toml:4: registry "h".api: "harbr" is not an API git laminar speaks`},
	} {
		if _, err := ParseUser(p, []byte(tt.text)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseUser(%q) = %v, want %q", tt.text, err, tt.want)
		}
	}
}

func TestUserPath(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/x/git-laminar/config.toml"},
		{map[string]string{"XDG_CONFIG_HOME": "relative", "HOME": "/h"}, "/h/.config/git-laminar/config.toml"},
		{map[string]string{"HOME": "/h"}, "/h/.config/git-laminar/config.toml"},
		{map[string]string{}, ""},
	} {
		if got := UserPath(env(tt.env)); got != filepath.FromSlash(tt.want) {
			t.Errorf("UserPath(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
}
