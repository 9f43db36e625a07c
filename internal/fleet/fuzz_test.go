package fleet

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: any text loads or fails with an error naming the file, never
// panics; a loaded repository's name stays one directory under the state
// directory, its URL cannot be read as an option or run a command, and
// its config path stays inside the repository.
func FuzzParse(f *testing.F) {
	f.Add(good)
	f.Add("[[repository]]\nname = \"a\"\nurl = \"file:///x\"\ninterval = \"10s\"\n")
	f.Add("[[repository]]\nname = \"..\"\nurl = \"-oProxyCommand=x\"\n")
	f.Add("[webhooks.quay]\nsecret_env = \"Q\"\n[[repository]]\nname = \"q\"\nurl = \"ext::sh\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		file, err := Parse("fleet.toml", []byte(text))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fleet.toml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, r := range file.Repositories {
			state := "/state"
			dir := filepath.Join(state, r.Name)
			if filepath.Dir(dir) != state || r.Name == "." || r.Name == ".." {
				t.Fatalf("name %q leaves the state directory", r.Name)
			}
			if strings.HasPrefix(r.URL, "-") || strings.HasPrefix(strings.ToLower(r.URL), "ext::") {
				t.Fatalf("url %q accepted", r.URL)
			}
			if r.Config != "" && (filepath.IsAbs(r.Config) || strings.HasPrefix(filepath.Clean(r.Config), "..")) {
				t.Fatalf("config %q leaves the repository", r.Config)
			}
			if r.Interval < MinInterval {
				t.Fatalf("interval %v accepted", r.Interval)
			}
		}
	})
}
