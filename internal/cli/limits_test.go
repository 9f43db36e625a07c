package cli

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// A hostile registry: tag lists, tags, manifests and configs of any size,
// pages without end or leading back to themselves, answers a byte at a
// time. Each case runs the real binary on two images, one on a healthy
// registry and one on the hostile one, and checks that the hostile image
// fails with an error naming it and the limit it hit, that the healthy
// one is promoted all the same (exit status 3), that the process stayed
// small, and that the cache kept nothing of what went over a limit.
func TestRegistryLimits(t *testing.T) {
	bin := limitsBinary(t)
	const huge = 500 << 20 // what each hostile answer would send, at most
	manifestFor := func(configSize int64) string {
		return fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
			`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":%d,"digest":"sha256:%x"},"layers":[]}`,
			configSize, sha256.Sum256([]byte("config")))
	}
	tests := []struct {
		name    string
		order   string // of the rule: "newest-build" reads manifests and configs
		args    []string
		respond func(w http.ResponseWriter, r *http.Request, kind registrytest.Kind)
		want    string // in the error, after the hostile image's name
		code    int
	}{
		{
			name: "huge tag list",
			respond: func(w http.ResponseWriter, r *http.Request, kind registrytest.Kind) {
				if kind != registrytest.KindTagsList {
					notFound(w)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				stream(w, r, `{"name":"evil/app","tags":["v1.0.0"`, huge, func(i int) string { return fmt.Sprintf(`,"v1.0.%d"`, i+1) })
			},
			want: "tag list page over the limit of 16 MiB",
		},
		{
			name: "single huge tag",
			respond: func(w http.ResponseWriter, r *http.Request, kind registrytest.Kind) {
				if kind != registrytest.KindTagsList {
					notFound(w)
					return
				}
				stream(w, r, `{"tags":["v1.0.0","v2.0.0-`, huge, func(int) string { return strings.Repeat("x", 4096) })
			},
			want: "tag list page over the limit of 16 MiB",
		},
		{
			name:  "manifest that declares a huge size",
			order: "newest-build",
			respond: func(w http.ResponseWriter, r *http.Request, kind registrytest.Kind) {
				switch kind {
				case registrytest.KindTagsList:
					fmt.Fprint(w, `{"tags":["v1.0.0","v1.1.0"]}`)
				case registrytest.KindManifestGet:
					w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
					w.Header().Set("Content-Length", strconv.Itoa(huge))
					stream(w, r, manifestFor(10)[:len(manifestFor(10))-1]+`,"annotations":{"x":"`, huge, func(int) string { return strings.Repeat("x", 4096) })
				default:
					notFound(w)
				}
			},
			want: `manifest over the limit of 4 MiB \(Content-Length 524288000\)`,
		},
		{
			name:  "manifest that sends a huge size",
			order: "newest-build",
			respond: func(w http.ResponseWriter, r *http.Request, kind registrytest.Kind) {
				switch kind {
				case registrytest.KindTagsList:
					fmt.Fprint(w, `{"tags":["v1.0.0","v1.1.0"]}`)
				case registrytest.KindManifestGet:
					w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
					stream(w, r, manifestFor(10)[:len(manifestFor(10))-1]+`,"annotations":{"x":"`, huge, func(int) string { return strings.Repeat("x", 4096) })
				default:
					notFound(w)
				}
			},
			want: "manifest over the limit of 4 MiB",
		},
		{
			name:  "config blob that declares and sends a huge size",
			order: "newest-build",
			respond: func(w http.ResponseWriter, r *http.Request, kind registrytest.Kind) {
				switch kind {
				case registrytest.KindTagsList:
					fmt.Fprint(w, `{"tags":["v1.0.0","v1.1.0"]}`)
				case registrytest.KindManifestGet:
					w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
					fmt.Fprint(w, manifestFor(huge))
				case registrytest.KindBlob:
					// No Content-Length: the size shows only as it is read.
					stream(w, r, `{"created":"2026-01-01T00:00:00Z","x":"`, huge, func(int) string { return strings.Repeat("x", 4096) })
				default:
					notFound(w)
				}
			},
			want: "config blob over the limit of 16 MiB",
		},
		{
			name: "endless pages",
			respond: func(w http.ResponseWriter, r *http.Request, kind registrytest.Kind) {
				if kind != registrytest.KindTagsList {
					notFound(w)
					return
				}
				n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Query().Get("last"), "v1.0."))
				w.Header().Set("Link", fmt.Sprintf(`</v2/evil/app/tags/list?n=100&last=v1.0.%d>; rel="next"`, n+1))
				fmt.Fprintf(w, `{"tags":["v1.0.%d"]}`, n+1)
			},
			// 3000, and two per page of the 10000 tags max_tags allows.
			want: "request budget of 127.0.0.1:.*/evil/app over the limit of 3200 requests in one run",
		},
		{
			// As many pages as max_tags allows, then every tag a build to
			// read for its time: the budget ends it.
			name:  "endless pages of builds",
			order: "newest-build",
			respond: func(w http.ResponseWriter, r *http.Request, kind registrytest.Kind) {
				config := `{"created":"2026-01-01T00:00:00Z","architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}`
				switch kind {
				case registrytest.KindTagsList:
					n, _ := strconv.Atoi(r.URL.Query().Get("last"))
					tags := make([]string, 100)
					for i := range tags {
						tags[i] = strconv.Quote(strconv.Itoa(n + i + 1))
					}
					w.Header().Set("Link", fmt.Sprintf(`</v2/evil/app/tags/list?n=100&last=%d>; rel="next"`, n+100))
					fmt.Fprintf(w, `{"tags":[%s]}`, strings.Join(tags, ","))
				case registrytest.KindManifestGet:
					w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
					fmt.Fprintf(w, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
						`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":%d,"digest":"sha256:%x"},"layers":[]}`,
						len(config), sha256.Sum256([]byte(config)))
				case registrytest.KindBlob:
					fmt.Fprint(w, config)
				default:
					notFound(w)
				}
			},
			want: "request budget of 127.0.0.1:.*/evil/app over the limit of 3200 requests in one run",
		},
		{
			name: "Link to the same page",
			respond: func(w http.ResponseWriter, r *http.Request, kind registrytest.Kind) {
				if kind != registrytest.KindTagsList {
					notFound(w)
					return
				}
				w.Header().Set("Link", `<`+r.URL.RequestURI()+`>; rel="next"`)
				fmt.Fprint(w, `{"tags":["v1.0.0","v1.1.0"]}`)
			},
			want: "Link header leads back to a tag list page already read",
		},
		{
			name: "Link to an earlier cursor",
			respond: func(w http.ResponseWriter, r *http.Request, kind registrytest.Kind) {
				if kind != registrytest.KindTagsList {
					notFound(w)
					return
				}
				// Page 2 says the same cursor in another spelling of the URL.
				w.Header().Set("Link", `</v2/evil/app/tags/list?last=v1.0.0&n=50>; rel="next"`)
				if r.URL.Query().Get("last") == "" {
					w.Header().Set("Link", `</v2/evil/app/tags/list?n=100&last=v1.0.0>; rel="next"`)
				}
				fmt.Fprint(w, `{"tags":["v1.0.0","v1.1.0"]}`)
			},
			want: "Link header leads back to a tag list page already read",
		},
		{
			name: "slow registry",
			args: []string{"--timeout", "2s"},
			respond: func(w http.ResponseWriter, r *http.Request, kind registrytest.Kind) {
				if kind != registrytest.KindTagsList {
					notFound(w)
					return
				}
				fmt.Fprint(w, `{"tags":["v1.0.0"`)
				for {
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						return
					case <-time.After(100 * time.Millisecond):
						fmt.Fprint(w, " ")
					}
				}
			},
			want: "the deadline of --timeout 2s passed",
		},
	}
	for _, tt := range tests {
		for _, mode := range []string{"--yes", "--dry-run"} {
			t.Run(tt.name+" "+mode, func(t *testing.T) {
				if mode == "--dry-run" && tt.name != "huge tag list" && tt.name != "endless pages" {
					t.Skip("one mode is enough for the others")
				}
				healthy := registrytest.NewServer(registrytest.ServerOptions{})
				t.Cleanup(healthy.Close)
				if _, err := registrytest.PushTags(context.Background(), healthy.Repo("acme/app"), map[string]time.Time{
					"v1.0.0": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "v1.1.0": time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
				}); err != nil {
					t.Fatal(err)
				}
				hostile := registrytest.NewServer(registrytest.ServerOptions{
					Respond: func(w http.ResponseWriter, r *http.Request) bool {
						kind, repo := registrytest.KindOf(r)
						if kind == registrytest.KindPing || repo != "evil/app" {
							return false
						}
						tt.respond(w, r, kind)
						return true
					},
				})
				t.Cleanup(hostile.Close)

				env := hostileRepo(t, healthy.Host(), hostile.Host(), tt.order)
				args := append([]string{"bump", mode}, tt.args...)
				cmd := exec.Command(bin, args...)
				cmd.Dir, cmd.Env = env.dir, env.vars
				var stdout, stderr strings.Builder
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				start := time.Now()
				err := cmd.Run()
				took := time.Since(start)
				code := cmd.ProcessState.ExitCode()
				if err != nil && code < 0 {
					t.Fatal(err)
				}
				t.Logf("%s in %s: exit %d\n%s", strings.Join(args, " "), took.Round(time.Millisecond), code, stderr.String())
				if code != ExitPartial {
					t.Errorf("exit status %d, want %d (partial)", code, ExitPartial)
				}
				evil := hostile.Repo("evil/app")
				if !regexp.MustCompile(`(?m)^  .*` + regexp.QuoteMeta(evil) + `.*: .*` + tt.want).MatchString(stderr.String()) {
					t.Errorf("stderr does not name %s and %q:\n%s", evil, tt.want, stderr.String())
				}
				if strings.Contains(stderr.String(), strings.Repeat("x", 200)) {
					t.Errorf("stderr holds the hostile bytes")
				}
				if !strings.Contains(stderr.String(), healthy.Repo("acme/app")+"  v1.0.0 -> v1.1.0") {
					t.Errorf("the healthy image is not promoted:\n%s", stderr.String())
				}
				if mode == "--yes" {
					msg := gitIn(t, env, "log", "-1", "--format=%B")
					if !strings.Contains(msg, "Laminar-Promote: "+healthy.Repo("acme/app")+" v1.0.0 -> v1.1.0") {
						t.Errorf("the commit does not promote the healthy image:\n%s", msg)
					}
					if strings.Contains(msg, "evil") {
						t.Errorf("the commit names the hostile image:\n%s", msg)
					}
				}
				rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
				t.Logf("peak RSS %d MiB", rss>>20)
				if rss > 300<<20 {
					t.Errorf("peak RSS %d MiB, over 300 MiB", rss>>20)
				}
				if n := dirSize(t, env.cache); n > 1<<20 {
					t.Errorf("the cache holds %d bytes", n)
				}
			})
		}
	}
}

// A tag longer than the 128 characters a tag may have is passed over: not
// shown, not cached, and the other tags are still read.
func TestRegistryLongTag(t *testing.T) {
	bin := limitsBinary(t)
	long := "v9.0.0-" + strings.Repeat("x", 1000)
	hostile := registrytest.NewServer(registrytest.ServerOptions{
		Respond: func(w http.ResponseWriter, r *http.Request) bool {
			kind, repo := registrytest.KindOf(r)
			if kind != registrytest.KindTagsList || repo != "evil/app" {
				return false
			}
			fmt.Fprintf(w, `{"tags":["v1.0.0","%s","v1.1.0"]}`, long)
			return true
		},
	})
	t.Cleanup(hostile.Close)
	healthy := registrytest.NewServer(registrytest.ServerOptions{})
	t.Cleanup(healthy.Close)
	if _, err := registrytest.PushTags(context.Background(), healthy.Repo("acme/app"), map[string]time.Time{"v1.0.0": time.Now()}); err != nil {
		t.Fatal(err)
	}
	env := hostileRepo(t, healthy.Host(), hostile.Host(), "")
	cmd := exec.Command(bin, "bump", "--dry-run")
	cmd.Dir, cmd.Env = env.dir, env.vars
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if code := cmd.ProcessState.ExitCode(); code != ExitOK {
		t.Fatalf("exit status %d (%v), want %d", code, err, ExitOK)
	}
	if !strings.Contains(string(out), hostile.Repo("evil/app")+"  v1.0.0 -> v1.1.0") {
		t.Errorf("the other tags of the hostile image were not read")
	}
	if !strings.Contains(string(out), "1 tag(s) longer than the 128 characters a tag may have; passed over") {
		t.Errorf("no warning of the long tag")
	}
	if strings.Contains(string(out), strings.Repeat("x", 100)) {
		t.Errorf("the long tag is shown")
	}
	filepath.WalkDir(env.cache, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), strings.Repeat("x", 100)) {
				t.Errorf("the cache file %s holds the long tag", p)
			}
		}
		return nil
	})
}

// stream writes head, then the strings of more until about size bytes in
// all or until the client goes, without ever holding them.
func stream(w http.ResponseWriter, r *http.Request, head string, size int, more func(int) string) {
	n, _ := fmt.Fprint(w, head)
	for i := 0; n < size; i++ {
		if r.Context().Err() != nil {
			return
		}
		m, err := fmt.Fprint(w, more(i))
		if err != nil {
			return
		}
		n += m
	}
	fmt.Fprint(w, `"]}`)
}

func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprint(w, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}`)
}

type hostileEnv struct {
	dir, cache string
	vars       []string
}

// hostileRepo makes a repository of manifests naming acme/app on the
// healthy registry and evil/app on the hostile one, both at v1.0.0.
func hostileRepo(t *testing.T, healthy, hostile, order string) hostileEnv {
	t.Helper()
	root := t.TempDir()
	env := hostileEnv{dir: filepath.Join(root, "repo"), cache: filepath.Join(root, "cache")}
	home := filepath.Join(root, "home")
	for _, d := range []string{env.dir, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env.vars = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + home, "DOCKER_CONFIG=" + filepath.Join(home, ".docker"),
		"LAMINAR_CACHE_DIR=" + env.cache, "GIT_CONFIG_NOSYSTEM=1", "NO_COLOR=1", "TZ=UTC",
		"GIT_AUTHOR_NAME=Dana Developer", "GIT_AUTHOR_EMAIL=dana@example.com",
		"GIT_COMMITTER_NAME=Dana Developer", "GIT_COMMITTER_EMAIL=dana@example.com",
	}
	pattern := "glob:v*"
	if order == "" {
		order = "semver"
	} else {
		pattern = "glob:*"
	}
	files := map[string]string{
		// The hostile host gets no rate limit, so that the endless pages
		// reach the budget in moments rather than minutes.
		"laminar.toml": fmt.Sprintf("[[registry]]\nprefix = %q\n\n[[registry]]\nprefix = %q\nrps = 1000000\n\n"+
			"[[update]]\nname = \"all\"\npattern = %q\norder = %q\n", healthy, hostile, pattern, order),
		"app.yaml": fmt.Sprintf("healthy: %s/acme/app:v1.0.0\nhostile: %s/evil/app:v1.0.0\n", healthy, hostile),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(env.dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn(t, env, "init", "-q", "-b", "main")
	gitIn(t, env, "add", ".")
	gitIn(t, env, "commit", "-q", "-m", "init")
	return env
}

func gitIn(t *testing.T, env hostileEnv, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = env.dir, env.vars
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// limitsBinary builds git-laminar as it is installed, with its soft
// memory limit: the test binary standing in for it would not have one.
func limitsBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	buildBinary(t, dir)
	return filepath.Join(dir, "git-laminar")
}

func dirSize(t *testing.T, dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
