package config

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzParse: any text either loads or fails with an error that names the
// file, and never panics; a loaded rule's files and exclude lists are
// usable on any path; a loaded laminar.toml names no credential, and its
// numbers and durations are ones a run can use.
func FuzzParse(f *testing.F) {
	f.Add(good)
	f.Add("[[registry]]\nprefix = \"r.example.com/a\"\n[[update]]\npattern = \"glob:*\"\n")
	f.Add("[[update]]\npatern = 1\n")
	f.Add("[commit]\nauthor_email = \"x\"\n[[registry]]\n")
	f.Add("[[registry]]\nprefix = \"r.example.com/a\"\n[[update]]\npattern = \"regex:(\"\nfiles = [\"**/x/**/*.y\"]\n")
	f.Add("[[registry]]\nprefix = \"r.example.com/a\"\n[[update]]\npattern = \"glob:*\"\nexec = [\"x\"]\nexec_trust = [\"s/**\", \"/abs\"]\n")
	f.Add("[[registry]]\nprefix = \"r.example.com/a\"\n[[update]]\npattern = \"glob:*\"\nimages = [\"app\", \"r.example.com/a/*\", \"!*/legacy-*\", \"*a*a*?\"]\n")
	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := Parse("laminar.toml", []byte(text))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "laminar.toml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, r := range cfg.Registries {
			a := r.Access
			if a.Username != "" || a.PasswordEnv != "" || a.PasswordFile != "" || a.CertFile != "" || a.KeyFile != "" {
				t.Fatalf("laminar.toml gave credentials: %+v", a)
			}
			if math.IsNaN(a.RPS) || math.IsInf(a.RPS, 0) || a.RPS < 0 {
				t.Fatalf("rps %v accepted", a.RPS)
			}
		}
		if cfg.Git.SSHKey != "" {
			t.Fatalf("laminar.toml gave an ssh_key: %q", cfg.Git.SSHKey)
		}
		for _, d := range []*time.Duration{cfg.Cache.TTL, cfg.Cache.TagTTL} {
			if d != nil && *d < 0 {
				t.Fatalf("negative cache duration %v", *d)
			}
		}
		for _, u := range cfg.Updates {
			if u.MinAge < 0 {
				t.Fatalf("min_age %v accepted", u.MinAge)
			}
			u.ManagesImage("r.example.com/a/legacy-app", "app", "")
			for _, p := range []string{"", "a", "dev/app.yaml", "x/y/z/w.yaml"} {
				u.Covers(p)
				if g, ok := u.ExecTrustGlob(p); ok && (strings.HasPrefix(strings.TrimSpace(g), "/") || slices.Contains(strings.Split(g, "/"), "..")) {
					t.Fatalf("exec_trust %q leaves the repository", g)
				}
			}
		}
	})
}
