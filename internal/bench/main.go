// Command bench measures git laminar on a generated manifests repository
// against an in-process registry, next to the lower bounds of the same
// work: listing the same repositories' tags with go-containerregistry at
// the tool's concurrency, and git grep over the same files.
//
//	go run ./internal/bench -preset small|medium|large [-runs 3] [-json]
//
// It generates a git repository of N files (Deployments, CronJobs, Helm
// values, kustomizations, compose files, Dockerfiles, .env files, and ~40%
// files with no image) referring to R repositories of a registry served in
// this process (T tags each, paginated by 100, with a per-request latency),
// and to other registries that are not managed. Then, each a median over
// -runs, interleaved so that noise hits every phase alike:
//
//	list     ggcr remote.List of the R repositories (lower bound of a cold bump)
//	grep     git grep for the reference lines (lower bound of the scan)
//	scan     git laminar scan --all --json
//	cold     git laminar bump --dry-run with an empty cache
//	cold-semver  the same with the version-ordered rule alone
//	list-times, cold-times  list and cold again, with tag lists that carry
//	         each tag's digest and build time as Google Container Registry's do
//	warm     the same, within the cache TTL after one filling run
//	newest   the same after new tags were pushed, with the tag lists refreshed:
//	         metadata may be fetched for the new tags only
//
// With -history N it measures history instead: N commits with Laminar-*
// trailers are put on top of the manifests with git fast-import, and it
// times git log printing the Laminar-Promote trailers (the lower bound),
// git laminar log (and --json), and git laminar status with warm tag lists,
// first without the holds state file (all of history is read) and then
// with it.
//
// The git-laminar process is run directly (not through git), so that its
// rusage (peak RSS, CPU) is its own. Nothing leaves 127.0.0.1: other
// registries are sent to a local proxy that counts and hangs up.
//
// The exit status is non-zero only when the harness fails; missed targets
// are printed, not fatal.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

type preset struct{ n, r, t, runs int }

var presets = map[string]preset{
	"small":  {500, 20, 50, 5},
	"medium": {5000, 100, 100, 3},
	"large":  {20000, 500, 300, 3},
}

type options struct {
	preset        string
	n, r, t, runs int
	latency       time.Duration
	spread        time.Duration
	throttle      float64
	pageSize      int
	bin           string
	json, keep    bool
	seed          uint64
	refresh       string
	extraTOML     string
	ttl           string
	regSettings   string
	tmp           string
	concurrency   int
	history       int
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == rusageFlag {
		rusageMain(os.Args[2:])
		return
	}
	var o options
	flag.StringVar(&o.preset, "preset", "small", "small (N=500,R=20,T=50) | medium (5000,100,100) | large (20000,500,300)")
	flag.IntVar(&o.n, "n", 0, "files in the manifests repository (overrides the preset)")
	flag.IntVar(&o.r, "r", 0, "managed repositories in the registry (overrides the preset)")
	flag.IntVar(&o.t, "t", 0, "tags per repository (overrides the preset)")
	flag.IntVar(&o.runs, "runs", 0, "timed runs per phase (default 5 for small, 3 otherwise)")
	flag.DurationVar(&o.latency, "latency", 10*time.Millisecond, "latency the registry adds to every request")
	flag.DurationVar(&o.spread, "latency-spread", 10*time.Millisecond, "a random part of up to this much added to each request's latency")
	flag.Float64Var(&o.throttle, "throttle", 50, "requests per second (bursts of as many) of the throttled phase's registry, which answers 429\nwith Retry-After beyond them; 0: no throttled phase")
	flag.IntVar(&o.pageSize, "page-size", 100, "tags per page of a tag list")
	flag.StringVar(&o.bin, "bin", "", "the git-laminar binary (default: go build ./cmd/git-laminar into the temp dir)")
	flag.BoolVar(&o.json, "json", false, "print the results as JSON")
	flag.BoolVar(&o.keep, "keep", false, "keep the temp dir (repository, caches) and print its path")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the generator")
	flag.StringVar(&o.refresh, "refresh", "auto", "how the newest phase expires the cached tag lists: flag (bump --refresh), ttl (LAMINAR_CACHE_TTL=1s\nafter a second), none, or auto (flag if bump has it, else ttl if the binary knows the variable)")
	flag.StringVar(&o.extraTOML, "toml", "", "TOML appended to the generated laminar.toml")
	flag.StringVar(&o.regSettings, "registry-settings", "",
		"TOML keys for the bench's [[registry]] table, ';'-separated, e.g. 'concurrency = 32'. Default: none,\nthe tool's defaults")
	flag.StringVar(&o.tmp, "tmp", "", "directory for the temp dir (default $TMPDIR; /dev/shm keeps a slow disk out of the figures)")
	flag.StringVar(&o.ttl, "ttl", "1h", `[cache] ttl of the generated laminar.toml, so that warm runs are within it ("": leave the table out)`)
	flag.IntVar(&o.concurrency, "concurrency", registry.DefaultConcurrency,
		"repositories listed at once by the lower bound (the tool's default over all registries)")
	flag.IntVar(&o.history, "history", 0, "measure log and status on a history of `N` commits (e.g. 100000) instead of bump;\nthe preset sizes the manifests and registry")
	flag.Parse()
	p, ok := presets[o.preset]
	if !ok {
		fmt.Fprintf(os.Stderr, "bench: unknown preset %q\n", o.preset)
		os.Exit(2)
	}
	o.n, o.r, o.t = or(o.n, p.n), or(o.r, p.r), or(o.t, p.t)
	o.runs = or(o.runs, p.runs)
	if o.n < 10 || o.r < 1 || o.t < 10 || o.runs < 1 {
		fmt.Fprintln(os.Stderr, "bench: need -n >= 10, -r >= 1, -t >= 10, -runs >= 1")
		os.Exit(2)
	}
	res, err := run(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if o.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	res.print(os.Stdout)
}

// throttleBurst is the burst of the throttled registry: one second's worth.
func throttleBurst(rps float64) int { return max(1, int(rps)) }

func or(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// features are what the binary under test offers.
type features struct {
	Refresh     bool     `json:"refresh_flag"`
	TTLEnv      bool     `json:"ttl_env"` // the binary reads LAMINAR_CACHE_TTL
	RefreshArgs []string `json:"refresh_args"`
	RefreshEnv  []string `json:"refresh_env"`
	Cache       bool     `json:"cache"` // the warm fill left files in the cache dir
	CacheFiles  int      `json:"cache_files"`
	CacheBytes  int64    `json:"cache_bytes"`
}

func run(ctx context.Context, o options) (*result, error) {
	tmp, err := os.MkdirTemp(o.tmp, "laminar-bench-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		defer logf("kept %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	home := filepath.Join(tmp, "home")
	repoDir := filepath.Join(tmp, "manifests")
	for _, d := range []string{home, repoDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}

	bin, err := buildBinary(ctx, o.bin, tmp)
	if err != nil {
		return nil, err
	}
	trap, err := newEgressTrap()
	if err != nil {
		return nil, err
	}
	defer trap.Close()

	res := &result{
		RegistrySettings: o.regSettings, TTL: o.ttl,
		Preset: o.preset, N: o.n, R: o.r, T: o.t, Runs: o.runs, Latency: o.latency.String(), Spread: o.spread.String(),
		Throttle: o.throttle,
		PageSize: o.pageSize, Concurrency: o.concurrency, Cores: numCPU(), Date: time.Now().UTC().Format(time.RFC3339),
		Bin: bin,
	}
	res.Command = commandLine()

	// Registry: seeded fast (no latency), then slowed down.
	srv := registrytest.NewServer(registrytest.ServerOptions{PageSize: o.pageSize})
	defer srv.Close()
	start := time.Now()
	seed, err := newSeeder(ctx, srv)
	if err != nil {
		return nil, fmt.Errorf("seeding the registry: %w", err)
	}
	if err := seed.seedCatalogue(ctx, o.r, o.t); err != nil {
		return nil, fmt.Errorf("seeding the registry: %w", err)
	}
	res.SeedTime = time.Since(start).Round(time.Millisecond).String()
	logf("seeded %d repositories x %d tags in %s", o.r, o.t, res.SeedTime)

	// Repository.
	start = time.Now()
	g := genConfig{Files: o.n, Repos: o.r, Tags: o.t, Seed: o.seed, Host: srv.Host(),
		RegistrySettings: strings.ReplaceAll(o.regSettings, ";", "\n")}
	extra := o.extraTOML
	if o.ttl != "" {
		extra = fmt.Sprintf("\n[cache]\nttl = %q\n", o.ttl) + extra
	}
	gen, err := generate(repoDir, g, extra)
	if err != nil {
		return nil, fmt.Errorf("generating the repository: %w", err)
	}
	r := &runner{bin: bin, repo: repoDir, env: isolatedEnv(tmp, home, trap.Addr()), srv: srv}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"commit", "-q", "-m", "Generated manifests"},
	} {
		if _, err := r.gitOut(ctx, args...); err != nil {
			return nil, err
		}
	}
	res.GenTime = time.Since(start).Round(time.Millisecond).String()
	res.Repo = repoInfo{Files: gen.Files, Bytes: gen.Bytes, Kinds: gen.FilesByKind, ManagedRefs: gen.ManagedRefs,
		UnmanagedRefs: gen.UnmanagedRefs, Referenced: len(gen.Referenced)}
	logf("generated %d files (%.1f MB), %d managed and %d other references, in %s",
		gen.Files, float64(gen.Bytes)/1e6, gen.ManagedRefs, gen.UnmanagedRefs, res.GenTime)

	srv.Update(func(so *registrytest.ServerOptions) { so.Latency, so.LatencySpread = o.latency, o.spread })
	base, err := r.gitOut(ctx, "rev-parse", "HEAD")
	if err != nil {
		return nil, err
	}
	base = strings.TrimSpace(base)

	// Features of the binary.
	var feat features
	help, _ := exec.CommandContext(ctx, bin, "bump", "--help").CombinedOutput()
	feat.Refresh = strings.Contains(string(help), "--refresh")
	if b, err := os.ReadFile(bin); err == nil {
		feat.TTLEnv = bytes.Contains(b, []byte("LAMINAR_CACHE_TTL"))
	}
	mode := o.refresh
	if mode == "auto" {
		switch {
		case feat.Refresh:
			mode = "flag"
		case feat.TTLEnv:
			mode = "ttl"
		}
	}
	switch mode {
	case "flag":
		feat.RefreshArgs = []string{"--refresh"}
	case "ttl":
		feat.RefreshEnv = []string{"LAMINAR_CACHE_TTL=1s"}
	case "none", "auto":
	default:
		return nil, fmt.Errorf("-refresh %q: want auto, flag, ttl or none", o.refresh)
	}

	// Sanity: does the scan see what was generated? (untimed; also warms
	// the page cache for every phase alike)
	if err := checkScan(ctx, r, tmp, gen, res); err != nil {
		return nil, err
	}
	if o.history > 0 {
		var images []string
		for _, repo := range gen.Referenced {
			images = append(images, srv.Host()+"/"+repo)
		}
		if err := runHistory(ctx, o, r, res, images); err != nil {
			return nil, err
		}
		res.Egress = trap.Hosts()
		res.finish(gen)
		return res, nil
	}
	grepArgs := []string{"grep", "-nIE", `[Ii]mage|IMAGE|^FROM |newName:|repository:|` + strings.ReplaceAll(g.Prefix(), ".", `\.`)}
	if out, err := r.gitOut(ctx, "grep", "-cIE", grepArgs[2]); err == nil {
		n := 0
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var c int
			if i := strings.LastIndexByte(l, ':'); i >= 0 {
				fmt.Sscan(l[i+1:], &c)
			}
			n += c
		}
		res.GrepLines = n
	}

	list := &phase{Name: "list", What: fmt.Sprintf("ggcr remote.List x%d repos, %d at once", len(gen.Referenced), o.concurrency)}
	grep := &phase{Name: "grep", What: "git " + strings.Join(grepArgs, " ")}
	scan := &phase{Name: "scan", What: "git laminar scan --all --json", Baseline: "grep"}
	cold := &phase{Name: "cold", What: "git laminar bump --dry-run, empty cache", Baseline: "list"}
	coldDir := filepath.Join(tmp, "cache-cold")
	// The same with the semver rule alone: every repository is listed, but
	// no rule needs creation times, so listing is all the network work.
	semverOnly := filepath.Join(tmp, "semver-only.toml")
	if err := os.WriteFile(semverOnly, []byte(semverConfig(g, extra)), 0o644); err != nil {
		return nil, err
	}
	coldSemver := &phase{Name: "cold-semver", What: "git laminar --config semver-only.toml bump --dry-run, empty cache: prod/ only, no creation times needed", Baseline: "list"}
	// The same registry answering tag lists as Google Container Registry
	// does, with each tag's digest and build time: ranking by creation time
	// then needs no request beyond the listing.
	listTimes := &phase{Name: "list-times", What: fmt.Sprintf("ggcr remote.List x%d repos, %d at once, tag lists with build times (GCR's manifest map)", len(gen.Referenced), o.concurrency)}
	coldTimes := &phase{Name: "cold-times", What: "git laminar bump --dry-run, empty cache, tag lists with build times (GCR's manifest map)", Baseline: "list-times"}
	setListTimes := func(on bool) { srv.Update(func(so *registrytest.ServerOptions) { so.ListTimes = on }) }
	// The cold run again, committing: what a bump costs beyond its diff.
	yes := &phase{Name: "yes", What: "git laminar bump --yes, empty cache (the commit reset after each run)", Baseline: "cold"}
	// The version rules against the same registry throttled: it answers
	// 429 with Retry-After beyond o.throttle requests per second. Its bound
	// is what the bucket allows for the requests it served.
	throttled := &phase{Name: "throttled", What: fmt.Sprintf("git laminar --config semver-only.toml bump --dry-run, empty cache, registry answering 429 beyond %g rps (bursts of %d)", o.throttle, throttleBurst(o.throttle)), Baseline: "throttle-bound"}
	throttleBound := &phase{Name: "throttle-bound", What: fmt.Sprintf("the longer of (requests served - burst) / %g rps, what the throttled registry allows for them, and cold-semver of the same round", o.throttle)}
	for i := range o.runs {
		logf("round %d/%d: list, grep, scan, cold bump", i+1, o.runs)
		s, err := listLowerBound(ctx, srv, gen.Referenced, o.concurrency)
		if err != nil {
			return nil, err
		}
		list.add(s)
		if s, err = r.git(ctx, grepArgs...); err != nil {
			return nil, err
		}
		grep.add(s)
		if s, err = r.tool(ctx, filepath.Join(tmp, "cache-scan"), "scan", "--all", "--json"); err != nil {
			return nil, err
		}
		scan.add(s)
		if err := os.RemoveAll(coldDir); err != nil {
			return nil, err
		}
		if s, err = r.tool(ctx, coldDir, "bump", "--dry-run"); err != nil {
			return nil, err
		}
		cold.add(s)
		if err := os.RemoveAll(coldDir); err != nil {
			return nil, err
		}
		if s, err = r.tool(ctx, coldDir, "--config", semverOnly, "bump", "--dry-run"); err != nil {
			return nil, err
		}
		coldSemver.add(s)

		if err := os.RemoveAll(coldDir); err != nil {
			return nil, err
		}
		if s, err = r.tool(ctx, coldDir, "bump", "--yes"); err != nil {
			return nil, err
		}
		yes.add(s)
		if _, err := r.gitOut(ctx, "reset", "-q", "--hard", base); err != nil {
			return nil, err
		}

		if o.throttle > 0 {
			if err := os.RemoveAll(coldDir); err != nil {
				return nil, err
			}
			srv.ResetThrottle()
			srv.Update(func(so *registrytest.ServerOptions) {
				so.Throttle = registrytest.Throttle{RPS: o.throttle, Burst: throttleBurst(o.throttle)}
			})
			s, err = r.tool(ctx, coldDir, "--config", semverOnly, "bump", "--dry-run")
			srv.Update(func(so *registrytest.ServerOptions) { so.Throttle = registrytest.Throttle{} })
			if err != nil {
				return nil, err
			}
			throttled.add(s)
			// No run is faster than the bucket allows, nor than the same
			// run unthrottled.
			served := max(s.Total-s.Throttled-throttleBurst(o.throttle), 0)
			bucket := time.Duration(float64(served) / o.throttle * float64(time.Second))
			throttleBound.add(sample{Wall: max(bucket, coldSemver.last()), Total: served})
			logf("  throttled %s: %d requests, %d answered 429 (%d after the first second); bound %s", round(s.Wall), s.Total,
				s.Throttled, s.ThrottledLate, round(throttleBound.last()))
		}

		setListTimes(true)
		if s, err = listLowerBound(ctx, srv, gen.Referenced, o.concurrency); err != nil {
			return nil, err
		}
		listTimes.add(s)
		if err := os.RemoveAll(coldDir); err != nil {
			return nil, err
		}
		s, err = r.tool(ctx, coldDir, "bump", "--dry-run")
		setListTimes(false)
		if err != nil {
			return nil, err
		}
		coldTimes.add(s)
		logf("  list %s, grep %s, scan %s, cold %s, cold-semver %s, yes %s, list-times %s, cold-times %s", round(list.last()), round(grep.last()),
			round(scan.last()), round(cold.last()), round(coldSemver.last()), round(yes.last()), round(listTimes.last()), round(coldTimes.last()))
	}

	// Warm: one run fills the cache, then runs within the TTL.
	warmDir := filepath.Join(tmp, "cache-warm")
	fill := &phase{Name: "warm-fill", What: "git laminar bump --dry-run, filling the cache", Baseline: "list"}
	s, err := r.tool(ctx, warmDir, "bump", "--dry-run")
	if err != nil {
		return nil, err
	}
	fill.add(s)
	feat.CacheFiles, feat.CacheBytes = dirSize(warmDir)
	feat.Cache = feat.CacheFiles > 0
	warm := &phase{Name: "warm", What: "git laminar bump --dry-run, within the TTL", Baseline: "scan"}
	runs := o.runs
	if !feat.Cache {
		runs = 1 // without a cache, a warm run is one more cold run
		res.Warnings = append(res.Warnings, "no cache: warm and newest phases ran once")
	}
	for i := range runs {
		s, err := r.tool(ctx, warmDir, "bump", "--dry-run")
		if err != nil {
			return nil, err
		}
		warm.add(s)
		logf("warm %d/%d: %s, %d requests", i+1, runs, round(s.Wall), s.Total)
	}

	// newest-build: new tags after the fill, tag lists expired.
	newest := &phase{Name: "newest", What: strings.Join(append(append(slices.Clone(feat.RefreshEnv), "git laminar bump --dry-run"), feat.RefreshArgs...), " ") +
		" after 2 new tags (develop-*, main-*) in every 10th repository", Baseline: "list"}
	var nb newestResult
	nb.RefreshArgs = append(slices.Clone(feat.RefreshEnv), feat.RefreshArgs...)
	if feat.Cache && len(nb.RefreshArgs) == 0 {
		nb.NA = "the tool caches, but offers no way to expire the tag lists (no --refresh, no LAMINAR_CACHE_TTL)"
	} else {
		for i := range runs {
			srv.Update(func(so *registrytest.ServerOptions) { so.Latency = 0 })
			nt, err := seed.pushNew(ctx, o.r, o.t, i)
			if err != nil {
				return nil, fmt.Errorf("pushing new tags: %w", err)
			}
			rec := &metaRecorder{fresh: nt}
			if len(feat.RefreshEnv) > 0 {
				time.Sleep(1100 * time.Millisecond) // older than LAMINAR_CACHE_TTL=1s
			}
			srv.Update(func(so *registrytest.ServerOptions) { so.Latency = o.latency; so.Observe = rec.observe })
			args := append([]string{"bump", "--dry-run"}, feat.RefreshArgs...)
			s, err := r.toolEnv(ctx, warmDir, feat.RefreshEnv, args...)
			srv.Update(func(so *registrytest.ServerOptions) { so.Observe = nil })
			if err != nil {
				return nil, err
			}
			newest.add(s)
			nb.NewTags = nt.count
			nb.NewFetches = append(nb.NewFetches, rec.new)
			kinds := rec.staleKinds()
			gets := kinds[string(registrytest.KindManifestGet)] + kinds[string(registrytest.KindBlob)]
			nb.StaleFetches = append(nb.StaleFetches, gets)
			nb.StaleHeads = append(nb.StaleHeads, kinds[string(registrytest.KindManifestHead)])
			if len(rec.stale) > 0 && len(nb.StaleExamples) == 0 {
				nb.StaleExamples = rec.stale[:min(5, len(rec.stale))]
			}
			if nb.StaleByKind == nil {
				nb.StaleByKind = map[string]int{}
			}
			for k, n := range kinds {
				nb.StaleByKind[k] = max(nb.StaleByKind[k], n)
			}
			logf("newest %d/%d: %s, %d new tags, metadata requests: %d for new tags, %s for others",
				i+1, runs, round(s.Wall), nt.count, rec.new, requestsString(kinds))
		}
	}

	res.Features = feat
	res.Phases = []*phase{list, grep, scan, cold, coldSemver, yes, listTimes, coldTimes}
	if o.throttle > 0 {
		res.Phases = append(res.Phases, throttleBound, throttled)
	}
	res.Phases = append(res.Phases, fill, warm)
	if nb.NA == "" {
		res.Phases = append(res.Phases, newest)
	}
	res.Newest = nb
	res.Egress = trap.Hosts()
	res.finish(gen)
	return res, nil
}

// buildBinary returns bin, or builds ./cmd/git-laminar into dir.
func buildBinary(ctx context.Context, bin, dir string) (string, error) {
	if bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", err
		}
		return abs, nil
	}
	out := filepath.Join(dir, "bin", "git-laminar")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, "./cmd/git-laminar")
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	if m := strings.TrimSpace(string(gomod)); m != "" && m != os.DevNull {
		cmd.Dir = filepath.Dir(m)
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	logf("building %s", out)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/git-laminar: %w", err)
	}
	return out, nil
}

// checkScan runs scan --all --json once and compares what it found with
// what was generated.
func checkScan(ctx context.Context, r *runner, tmp string, gen genResult, res *result) error {
	cmd := exec.CommandContext(ctx, r.bin, "scan", "--all", "--json")
	cmd.Dir = r.repo
	cmd.Env = withCache(r.env, filepath.Join(tmp, "cache-scan"))
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("git laminar scan --all --json: %v: %s", err, ee.Stderr)
		}
		return err
	}
	var entries []struct {
		Managed   bool   `json:"managed"`
		Canonical string `json:"canonical"`
	}
	if err := json.Unmarshal(out, &entries); err != nil {
		return fmt.Errorf("scan --json output: %w", err)
	}
	for _, e := range entries {
		if e.Managed {
			res.Repo.ScanManaged++
		} else {
			res.Repo.ScanOther++
		}
	}
	if res.Repo.ScanManaged != gen.ManagedRefs || res.Repo.ScanOther != gen.UnmanagedRefs {
		res.Warnings = append(res.Warnings, fmt.Sprintf("scan found %d managed and %d other references; %d and %d were generated",
			res.Repo.ScanManaged, res.Repo.ScanOther, gen.ManagedRefs, gen.UnmanagedRefs))
	}
	return nil
}

func dirSize(dir string) (files int, bytes int64) {
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files++
			if fi, err := d.Info(); err == nil {
				bytes += fi.Size()
			}
		}
		return nil
	})
	return files, bytes
}

func commandLine() string {
	args := slices.Clone(os.Args[1:])
	return "go run ./internal/bench " + strings.Join(args, " ")
}
