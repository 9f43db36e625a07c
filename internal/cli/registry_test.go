package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/registry"
)

// The client is built from the user-level file (first, so it wins) and
// laminar.toml, with the cache from the environment, either file or the
// user's cache directory.
func TestRegistryOptions(t *testing.T) {
	root := t.TempDir()
	project, err := config.Parse(filepath.Join(root, "repo", config.FileName), []byte(`
[[registry]]
prefix = "ghcr.io/acme"
page_size = 50

[cache]
ttl = "10m"
dir = ".cache"
`))
	if err != nil {
		t.Fatal(err)
	}
	xdg := filepath.Join(root, "xdg")
	writeUser := func(text string) {
		t.Helper()
		p := filepath.Join(xdg, "git-laminar", "config.toml")
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"XDG_CONFIG_HOME": xdg, "HOME": filepath.Join(root, "home")}
	getenv := func(k string) string { return env[k] }
	userCache, _ := os.UserCacheDir()

	tests := []struct {
		name     string
		user     string // "" : no user-level file
		env      map[string]string
		refresh  bool
		prefixes []string
		dir      string
		ttl      time.Duration
		wantErr  string
	}{
		{name: "project only", prefixes: []string{"ghcr.io/acme"}, dir: filepath.Join(root, "repo", ".cache"), ttl: 10 * time.Minute},
		{name: "user file first, its cache wins",
			user:     "[[registry]]\nprefix = \"ghcr.io\"\nusername = \"me\"\npassword_file = \"token\"\n[cache]\nttl = \"0\"\ndir = \"/var/cache/laminar\"\n",
			prefixes: []string{"ghcr.io", "ghcr.io/acme"}, dir: "/var/cache/laminar", ttl: -1},
		{name: "environment wins", user: "[cache]\nttl = \"30s\"\n",
			env:      map[string]string{CacheDirEnv: "/tmp/c", CacheTTLEnv: "2m"},
			prefixes: []string{"ghcr.io/acme"}, dir: "/tmp/c", ttl: 2 * time.Minute, refresh: true},
		{name: "TTL 0 from the environment", env: map[string]string{CacheTTLEnv: "0"}, prefixes: []string{"ghcr.io/acme"},
			dir: filepath.Join(root, "repo", ".cache"), ttl: -1},
		{name: "broken user file", user: "[[registry]]\nprefix = \"ghcr.io\"\nrps = -1.0\n", wantErr: "config.toml:3: registry #1.rps"},
		{name: "bad TTL in the environment", env: map[string]string{CacheTTLEnv: "soon"}, wantErr: "LAMINAR_CACHE_TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.RemoveAll(xdg)
			if tt.user != "" {
				writeUser(tt.user)
			}
			for k, v := range tt.env {
				env[k] = v
			}
			defer func() {
				for k := range tt.env {
					delete(env, k)
				}
			}()
			opt, err := registryOptions(project, registrySetup{Getenv: getenv, Refresh: tt.refresh})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var prefixes []string
			for _, s := range opt.Registries {
				prefixes = append(prefixes, s.Prefix)
			}
			if diff := cmp.Diff(tt.prefixes, prefixes); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
			if opt.CacheDir != tt.dir || opt.CacheTTL != tt.ttl || opt.Refresh != tt.refresh {
				t.Errorf("cache %q %v refresh %v, want %q %v %v", opt.CacheDir, opt.CacheTTL, opt.Refresh, tt.dir, tt.ttl, tt.refresh)
			}
		})
	}

	// Without any setting, the user's cache directory.
	opt, err := registryOptions(&config.Config{}, registrySetup{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if userCache != "" && opt.CacheDir != filepath.Join(userCache, "git-laminar") {
		t.Errorf("default cache dir %q", opt.CacheDir)
	}
	if opt.CacheTTL != 0 || len(opt.Registries) != 0 {
		t.Errorf("defaults: %+v", opt)
	}
	_ = registry.DefaultCacheTTL
}
