package config

import (
	"strings"
	"testing"
)

// FuzzParse: any text either loads or fails with an error that names the
// file, and never panics; a loaded rule's files and exclude lists are
// usable on any path.
func FuzzParse(f *testing.F) {
	f.Add(good)
	f.Add("[[registry]]\nprefix = \"r.example.com/a\"\n[[update]]\npattern = \"glob:*\"\n")
	f.Add("[[update]]\npatern = 1\n")
	f.Add("[commit]\nauthor_email = \"x\"\n[[registry]]\n")
	f.Add("[[registry]]\nprefix = \"r.example.com/a\"\n[[update]]\npattern = \"regex:(\"\nfiles = [\"**/x/**/*.y\"]\n")
	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := Parse("laminar.toml", []byte(text))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "laminar.toml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, u := range cfg.Updates {
			for _, p := range []string{"", "a", "dev/app.yaml", "x/y/z/w.yaml"} {
				u.Covers(p)
			}
		}
	})
}
