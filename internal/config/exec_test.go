package config

import (
	"strings"
	"testing"
	"time"
)

const execReg = "[[registry]]\nprefix = \"registry.example.com/acme\"\n\n"

func TestExecAndNotify(t *testing.T) {
	text := execReg + `[[update]]
name = "dev"
pattern = "glob:develop-*"
exec = ["./render.sh", "make manifests"]
exec_timeout = "90s"

[[update]]
name = "prod"
pattern = "semver:^1"

[notify]
url_env = "LAMINAR_WEBHOOK_URL"
format = "json"
timeout = "5s"
`
	cfg, err := Parse("laminar.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	dev, prod := cfg.Updates[0], cfg.Updates[1]
	if strings.Join(dev.Exec, "|") != "./render.sh|make manifests" || dev.ExecTimeout != 90*time.Second {
		t.Errorf("dev exec %q timeout %v", dev.Exec, dev.ExecTimeout)
	}
	if dev.KeyLines["exec"] != 7 {
		t.Errorf("exec line %d", dev.KeyLines["exec"])
	}
	if len(prod.Exec) != 0 || prod.ExecTimeout != 0 {
		t.Errorf("prod exec %q %v", prod.Exec, prod.ExecTimeout)
	}
	if !cfg.HasExec() {
		t.Error("HasExec false")
	}
	n := cfg.Notify
	if !n.Enabled() || n.URLEnv != "LAMINAR_WEBHOOK_URL" || n.Format != "json" || n.Timeout != 5*time.Second || n.Line != 14 {
		t.Errorf("notify %+v", n)
	}
	if _, err := n.WebhookURL(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "LAMINAR_WEBHOOK_URL is not set") {
		t.Errorf("unset variable: %v", err)
	}
	if u, err := n.WebhookURL(func(string) string { return "https://hooks.example.com/x" }); err != nil || u != "https://hooks.example.com/x" {
		t.Errorf("url %q %v", u, err)
	}
	if _, err := n.WebhookURL(func(string) string { return "hooks.example.com/secret" }); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("bad value: %v", err)
	}

	// The hash is of the bytes: any change, even a comment, changes it.
	again, _ := Parse("laminar.toml", []byte(text))
	changed, _ := Parse("laminar.toml", []byte(text+"# note\n"))
	if !strings.HasPrefix(cfg.Hash, "sha256:") || len(cfg.Hash) != 71 || again.Hash != cfg.Hash || changed.Hash == cfg.Hash {
		t.Errorf("hashes %q %q %q", cfg.Hash, again.Hash, changed.Hash)
	}
}

func TestExecDefaults(t *testing.T) {
	cfg, err := Parse("laminar.toml", []byte(execReg+"[[update]]\npattern = \"glob:*\"\nexec = [\"make\"]\n\n[notify]\nurl = \"https://hooks.slack.com/services/T/B/X\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Updates[0].ExecTimeout != DefaultExecTimeout {
		t.Errorf("timeout %v", cfg.Updates[0].ExecTimeout)
	}
	if cfg.Notify.Format != "slack" || cfg.Notify.URL == "" {
		t.Errorf("notify %+v", cfg.Notify)
	}
	none, err := Parse("laminar.toml", []byte(execReg+"[[update]]\npattern = \"glob:*\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if none.HasExec() || none.Notify.Enabled() {
		t.Errorf("exec %v notify %+v", none.HasExec(), none.Notify)
	}
}

func TestExecAndNotifyErrors(t *testing.T) {
	rule := execReg + "[[update]]\nname = \"dev\"\npattern = \"glob:*\"\n"
	for _, tc := range []struct{ name, text, want string }{
		{"empty command", rule + "exec = [\"make\", \" \"]\n", `laminar.toml:7: update "dev".exec: command 2 is empty`},
		{"not a list", rule + "exec = \"make\"\n", "laminar.toml:7"},
		{"timeout without exec", rule + "exec_timeout = \"1m\"\n", `update "dev".exec_timeout: set without exec commands`},
		{"bad timeout", rule + "exec = [\"make\"]\nexec_timeout = \"soon\"\n", `laminar.toml:8: update "dev".exec_timeout: "soon" is not a duration`},
		{"typo", rule + "exce = [\"make\"]\n", `did you mean "exec"?`},
		{"both urls", execReg + "[notify]\nurl = \"https://x.example/h\"\nurl_env = \"H\"\n", "laminar.toml:6: notify.url_env: set url or url_env, not both"},
		{"no url", execReg + "[notify]\nformat = \"json\"\n", "laminar.toml:4: notify.url: missing"},
		{"env value", execReg + "[notify]\nurl_env = \"$HOOK\"\n", "give the name of an environment variable"},
		{"bad url", execReg + "[notify]\nurl = \"hooks.slack.com/services/secret\"\n", "laminar.toml:5: notify.url: the URL is not an http:// or https:// URL"},
		{"bad format", execReg + "[notify]\nurl = \"https://x.example/h\"\nformat = \"xml\"\n", `notify.format: "xml" is not one of slack, json`},
		{"bad key", execReg + "[notify]\nurl = \"https://x.example/h\"\nfromat = \"json\"\n", `did you mean "format"?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("laminar.toml", []byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error repeats the URL: %v", err)
			}
		})
	}
}

func TestExecTrust(t *testing.T) {
	text := execReg + `[[update]]
name = "dev"
pattern = "glob:develop-*"
exec = ["./render.sh"]
exec_trust = ["scripts/**", "charts/*/templates", "./tools/gen.py"]
`
	cfg, err := Parse("laminar.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	u := cfg.Updates[0]
	if u.KeyLines["exec_trust"] != 8 {
		t.Errorf("exec_trust line %d", u.KeyLines["exec_trust"])
	}
	for _, tc := range []struct{ path, glob string }{
		{"scripts/a.sh", "scripts/**"},
		{"scripts/lib/b.sh", "scripts/**"},
		{"charts/app/templates/deploy.yaml", "charts/*/templates"},
		{"tools/gen.py", "./tools/gen.py"},
		{"charts/app/values.yaml", ""},
		{"render.sh", ""},
		{"scriptsx/a.sh", ""},
	} {
		g, ok := u.ExecTrustGlob(tc.path)
		if g != tc.glob || ok != (tc.glob != "") {
			t.Errorf("ExecTrustGlob(%q) = %q %v, want %q", tc.path, g, ok, tc.glob)
		}
	}
}

func TestExecTrustErrors(t *testing.T) {
	rule := execReg + "[[update]]\nname = \"dev\"\npattern = \"glob:*\"\nexec = [\"./render.sh\"]\n"
	for _, tc := range []struct{ name, glob, want string }{
		{"absolute", `"/etc/**"`, `laminar.toml:8: update "dev".exec_trust: "/etc/**" is an absolute path`},
		{"leaves", `"scripts/../../x"`, `laminar.toml:8: update "dev".exec_trust: "scripts/../../x" leaves the repository`},
		{"parent", `"../other/**"`, `leaves the repository`},
		{"home", `"~/bin/*"`, `names a home directory`},
		{"drive", `"C:/tools/*"`, `is an absolute path`},
		{"unc", `"\\\\server\\share"`, `is an absolute path`},
		{"backslash", `"scripts\\x"`, `use forward slashes`},
		{"empty", `" "`, `an entry is empty`},
		{"bad glob", `"scripts/[x"`, `bad glob`},
		{"not a list", `"scripts/**"`, `laminar.toml:8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := rule + "exec_trust = [" + tc.glob + "]\n"
			if tc.name == "not a list" {
				text = rule + "exec_trust = " + tc.glob + "\n"
			}
			_, err := Parse("laminar.toml", []byte(text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	_, err := Parse("laminar.toml", []byte(execReg+"[[update]]\nname = \"dev\"\npattern = \"glob:*\"\nexec_trust = [\"x\"]\n"))
	if err == nil || !strings.Contains(err.Error(), `laminar.toml:7: update "dev".exec_trust: set without exec commands`) {
		t.Errorf("exec_trust without exec: %v", err)
	}
}
