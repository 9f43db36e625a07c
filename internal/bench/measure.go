package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// sample is one timed run.
type sample struct {
	Wall     time.Duration  `json:"wall_ns"`
	CPU      time.Duration  `json:"cpu_ns,omitempty"`   // user+sys of the child
	MaxRSS   int64          `json:"max_rss,omitempty"`  // bytes, of the child
	Requests map[string]int `json:"requests,omitempty"` // by kind
	Total    int            `json:"requests_total"`     // every request
	InFlight int            `json:"max_in_flight"`      // most requests served at once
	// Answered 429 by a throttled registry, and those of them more than a
	// second after the first request.
	Throttled     int      `json:"throttled,omitempty"`
	ThrottledLate int      `json:"throttled_late,omitempty"`
	Exit          int      `json:"exit"`            // the child's exit status
	Notes         []string `json:"notes,omitempty"` // e.g. failures the tool reported
	// Promotions a bump proposed, counted in its summary.
	Promotions int                 `json:"promotions,omitempty"`
	counts     registrytest.Counts // raw
}

// runner runs the tool and git with the isolated environment of the bench.
type runner struct {
	bin  string
	repo string // the manifests repository
	env  []string
	srv  *registrytest.Server
}

// isolatedEnv is os.Environ without anything that could reach the
// caller's git, docker, cache or proxy configuration, plus the bench's.
func isolatedEnv(tmp, home, proxy string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "GIT_"), strings.HasPrefix(k, "XDG_"), strings.HasPrefix(k, "LAMINAR_"),
			strings.HasPrefix(k, "DOCKER_"), strings.EqualFold(k, "http_proxy"), strings.EqualFold(k, "https_proxy"),
			strings.EqualFold(k, "all_proxy"), strings.EqualFold(k, "no_proxy"), k == "HOME", k == "EMAIL":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+home,
		"XDG_CONFIG_HOME="+home+"/.config",
		"DOCKER_CONFIG="+home+"/.docker",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Bench", "GIT_AUTHOR_EMAIL=bench@example.com",
		"GIT_COMMITTER_NAME=Bench", "GIT_COMMITTER_EMAIL=bench@example.com",
		"GIT_AUTHOR_DATE=2025-01-06T08:00:00Z", "GIT_COMMITTER_DATE=2025-01-06T08:00:00Z",
		// Nothing may leave 127.0.0.1: any other registry goes to a proxy
		// that only counts and hangs up. Loopback is never proxied.
		"HTTP_PROXY=http://"+proxy, "HTTPS_PROXY=http://"+proxy, "NO_PROXY=127.0.0.1,localhost",
	)
}

// withCache adds the cache directories of one phase.
func withCache(env []string, dir string) []string {
	return append(slices.Clone(env), "XDG_CACHE_HOME="+dir, "LAMINAR_CACHE_DIR="+dir+"/git-laminar")
}

// tool runs the git-laminar binary in the manifests repository, stdout to
// /dev/null, and measures it. A non-zero exit status is reported, not an
// error: only a failure to run at all is.
func (r *runner) tool(ctx context.Context, cacheDir string, args ...string) (sample, error) {
	return r.toolEnv(ctx, cacheDir, nil, args...)
}

// toolEnv is tool with more environment variables.
func (r *runner) toolEnv(ctx context.Context, cacheDir string, env []string, args ...string) (sample, error) {
	var stderr bytes.Buffer
	r.srv.ResetCounts()
	u, err := measure(ctx, r.repo, append(withCache(r.env, cacheDir), env...), nil, &stderr, r.bin, args...)
	if err != nil {
		return sample{}, fmt.Errorf("git laminar %s: %w", strings.Join(args, " "), err)
	}
	s := sample{Wall: u.Wall, CPU: u.CPU, MaxRSS: u.MaxRSS, Exit: u.Exit}
	s.setCounts(r.srv.Counts())
	if len(args) > 0 && args[0] == "bump" || len(args) > 2 && args[2] == "bump" {
		s.Promotions = promotions(stderr.String())
	}
	if s.Exit != 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("exit %d: %s", s.Exit, firstLines(stderr.String(), 4)))
	}
	if n := failures(stderr.String()); n > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("%d image(s) failed: %s", n, firstLines(after(stderr.String(), "Failed:"), 3)))
	}
	return s, nil
}

func (s *sample) setCounts(c registrytest.Counts) {
	s.counts = c
	s.Requests = map[string]int{}
	for k, n := range c.ByKind {
		s.Requests[string(k)] = n
	}
	s.Total = c.Total
	s.InFlight = c.MaxInFlight
	s.Throttled, s.ThrottledLate = c.Throttled, c.ThrottledLate
}

// promotions counts the summary lines of a bump ("Promotions:" block).
func promotions(stderr string) int {
	n, in := 0, false
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Promotions:"):
			in = true
		case strings.HasPrefix(line, "  ") && in:
			n++
		default:
			in = false
		}
	}
	return n
}

func failures(stderr string) int {
	rest := after(stderr, "Failed:")
	if rest == "" {
		return 0
	}
	n := 0
	for _, l := range strings.Split(rest, "\n") {
		if strings.HasPrefix(l, "  ") {
			n++
		}
	}
	return n
}

func after(s, marker string) string {
	_, rest, ok := strings.Cut(s, marker)
	if !ok {
		return ""
	}
	return rest
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, " | ")
}

// git runs git in the manifests repository, stdout to /dev/null, timed.
// Exit status 1 (no match, for grep) is not an error.
func (r *runner) git(ctx context.Context, args ...string) (sample, error) {
	var stderr bytes.Buffer
	u, err := measure(ctx, r.repo, r.env, nil, &stderr, "git", args...)
	if err == nil && u.Exit > 1 {
		err = fmt.Errorf("exit %d", u.Exit)
	}
	if err != nil {
		return sample{}, fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return sample{Wall: u.Wall, CPU: u.CPU, MaxRSS: u.MaxRSS}, nil
}

// gitOut runs git and returns its stdout.
func (r *runner) gitOut(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = r.repo
	cmd.Env = r.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// listLowerBound lists repos the way the tool does at its best: ggcr's
// remote.List, conc repositories at once, each with a fresh connection
// pool as a new process would have.
func listLowerBound(ctx context.Context, srv *registrytest.Server, repos []string, conc int) (sample, error) {
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	defer tr.CloseIdleConnections()
	srv.ResetCounts()
	start := time.Now()
	var (
		wg       sync.WaitGroup
		sem      = make(chan struct{}, conc)
		mu       sync.Mutex
		firstErr error
		tags     int
	)
	for _, repo := range repos {
		r, err := name.NewRepository(srv.Repo(repo))
		if err != nil {
			return sample{}, err
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			got, err := remote.List(r, remote.WithContext(ctx), remote.WithTransport(tr))
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("listing %s: %w", repo, err)
			}
			tags += len(got)
		})
	}
	wg.Wait()
	s := sample{Wall: time.Since(start)}
	s.setCounts(srv.Counts())
	s.Notes = []string{fmt.Sprintf("%d tags", tags)}
	return s, firstErr
}

// egressTrap is the proxy every non-loopback request is sent to: it
// records the target and hangs up, so the bench never leaves the machine
// and can say whether the tool tried.
type egressTrap struct {
	ln    net.Listener
	mu    sync.Mutex
	hosts map[string]int
}

func newEgressTrap() (*egressTrap, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &egressTrap{ln: ln, hosts: map[string]int{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				f := strings.Fields(line)
				host := "?"
				if len(f) >= 2 {
					host = f[1]
				}
				t.mu.Lock()
				t.hosts[host]++
				t.mu.Unlock()
			}()
		}
	}()
	return t, nil
}

func (t *egressTrap) Addr() string { return t.ln.Addr().String() }
func (t *egressTrap) Close()       { t.ln.Close() }

func (t *egressTrap) Hosts() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]int{}
	for k, v := range t.hosts {
		out[k] = v
	}
	return out
}

// metaRecorder records the metadata requests (manifests and blobs) that
// the registry serves, to tell fetches of new tags from the others.
type metaRecorder struct {
	mu    sync.Mutex
	reqs  []string // "manifest-get repo:ref", "blob repo@digest"
	fresh *newTags
	stale []string
	new   int
}

func (m *metaRecorder) observe(r *http.Request) {
	kind, repo := registrytest.KindOf(r)
	var key string
	isNew := false
	switch kind {
	case registrytest.KindManifestGet, registrytest.KindManifestHead:
		ref := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		key = repo + ":" + ref
		isNew = m.fresh.refs[key]
	case registrytest.KindBlob:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return
		}
		d := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		key = repo + "@" + d
		isNew = m.fresh.digests[d]
	default:
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reqs = append(m.reqs, string(kind)+" "+key)
	if isNew {
		m.new++
	} else {
		m.stale = append(m.stale, string(kind)+" "+key)
	}
}

// staleKinds counts the requests for other tags by kind.
func (m *metaRecorder) staleKinds() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for _, st := range m.stale {
		kind, _, _ := strings.Cut(st, " ")
		out[kind]++
	}
	return out
}
