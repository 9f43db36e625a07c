// Command demo shows git laminar at work on an embedded default: it serves a
// registry in process (go-containerregistry's pkg/registry on 127.0.0.1)
// seeded with tags, creates a throwaway repository of sample manifests, and
// runs the real git-laminar binary through git against both.
//
//	go run ./internal/demo -bin bin/git-laminar
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

func main() {
	bin := flag.String("bin", "bin/git-laminar", "the git-laminar binary to run")
	keep := flag.Bool("keep", false, "keep the throwaway repository and print its path")
	flag.Parse()
	if err := run(*bin, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(bin string, keep bool) error {
	ctx := context.Background()
	absBin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(absBin); err != nil {
		return fmt.Errorf("%s: build it first with make build", bin)
	}

	srv := registrytest.NewServer(registrytest.ServerOptions{})
	defer srv.Close()
	host := srv.Host()
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	seed := map[string]map[string]time.Time{
		"acme/app": {
			"develop-52af76b8":     base,
			"develop-9c1e0d7a":     base.Add(2 * time.Hour),
			"develop-b2ee56fd":     base.Add(5 * time.Hour),
			"main-1f2e3d4c":        base.Add(6 * time.Hour),
			"develop-b2ee56fd.sig": base.Add(7 * time.Hour),
		},
		"acme/api": {
			"1.4.0": base, "1.4.2": base.Add(time.Hour), "1.5.0": base.Add(2 * time.Hour),
			"1.6.0-rc.1": base.Add(3 * time.Hour), "2.0.0": base.Add(4 * time.Hour),
		},
	}
	for repo, tags := range seed {
		if _, err := registrytest.PushTags(ctx, host+"/"+repo, tags); err != nil {
			return fmt.Errorf("seeding %s: %w", repo, err)
		}
	}

	tmp, err := os.MkdirTemp("", "laminar-demo-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(tmp)
	}
	repo := filepath.Join(tmp, "manifests")
	files := map[string]string{
		"laminar.toml": fmt.Sprintf(`[[registry]]
name = "acme"
prefix = "%s/acme"

[[update]]
name = "dev"
pattern = "glob:develop-*"
files = ["deploy/dev/", "compose.yaml"]

[[update]]
name = "prod"
pattern = "semver:^1.4"
files = ["deploy/prod/"]
`, host),
		"deploy/dev/app.yaml": fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: app
          image: %s/acme/app:develop-52af76b8 # built by CI from develop
        - name: proxy
          image: nginx:1.25   # not under a managed prefix: left alone
`, host),
		"deploy/prod/api.yaml": fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: "%s/acme/api:1.4.0"
`, host),
		"compose.yaml": fmt.Sprintf("services:\r\n  app:\r\n    image: '%s/acme/app:develop-52af76b8'\r\n  cache:\r\n    image: redis:7\r\n", host),
	}
	for name, content := range files {
		p := filepath.Join(repo, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}

	home := filepath.Join(tmp, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	env := append(os.Environ(),
		"PATH="+filepath.Dir(absBin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "DOCKER_CONFIG="+home,
		"GIT_AUTHOR_NAME=Dana Developer", "GIT_AUTHOR_EMAIL=dana@example.com",
		"GIT_COMMITTER_NAME=Dana Developer", "GIT_COMMITTER_EMAIL=dana@example.com",
	)
	sh := func(show bool, args ...string) error {
		if show {
			fmt.Printf("\n\033[1m$ %s\033[0m\n", strings.Join(args, " "))
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = repo
		cmd.Env = env
		if show {
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
		}
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	for _, args := range [][]string{
		{"git", "init", "-q", "-b", "main"},
		{"git", "add", "."},
		{"git", "commit", "-q", "-m", "Initial manifests"},
	} {
		if err := sh(false, args...); err != nil {
			return err
		}
	}

	fmt.Printf("A registry at %s holds acme/app (develop-52af76b8 ... develop-b2ee56fd) and acme/api (1.4.0 ... 2.0.0).\n", host)
	fmt.Printf("A throwaway repository of manifests refers to the old tags. laminar.toml:\n\n%s", files["laminar.toml"])
	for _, args := range [][]string{
		{"git", "laminar", "scan"},
		{"git", "laminar", "status"},
		{"git", "laminar", "bump", "--yes"},
		{"git", "show", "--stat", "--format=%B", "HEAD"},
		{"git", "log", "-1", "--format=%(trailers:key=Laminar-Promote,valueonly)"},
		{"git", "laminar", "log"},
		{"git", "laminar", "bump", "--dry-run", "--exit-code"},
	} {
		if err := sh(true, args...); err != nil {
			return err
		}
	}
	if keep {
		fmt.Printf("\nThe repository is kept at %s (the registry is gone with this process).\n", repo)
	}
	return nil
}
