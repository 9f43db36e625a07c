package main

import (
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// phase is one measured step, a median over its samples.
type phase struct {
	Name     string   `json:"name"`
	What     string   `json:"what"`
	Baseline string   `json:"baseline,omitempty"` // the phase its ratio is against
	Samples  []sample `json:"samples"`

	Median   time.Duration  `json:"median_ns"`
	Min      time.Duration  `json:"min_ns"`
	Max      time.Duration  `json:"max_ns"`
	Ratio    float64        `json:"ratio,omitempty"` // Median / baseline's Median
	Requests map[string]int `json:"requests"`        // median per kind
	Total    int            `json:"requests_total"`  // median
	InFlight int            `json:"max_in_flight"`   // most over the samples
	MaxRSS   int64          `json:"max_rss"`         // most over the samples
	CPU      time.Duration  `json:"cpu_ns"`          // median
	// Floor is the time the median requests take at the lower bound's
	// concurrency, back to back: requests x latency / concurrency.
	Floor time.Duration `json:"network_floor_ns"`
}

func (p *phase) add(s sample) { p.Samples = append(p.Samples, s) }

func (p *phase) last() time.Duration { return p.Samples[len(p.Samples)-1].Wall }

func medianOf[T int | int64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (p *phase) summarise() {
	var walls, cpus []time.Duration
	var totals []int
	kinds := map[string][]int{}
	for _, s := range p.Samples {
		walls = append(walls, s.Wall)
		cpus = append(cpus, s.CPU)
		totals = append(totals, s.Total)
		for k := range s.Requests {
			kinds[k] = nil
		}
		p.InFlight = max(p.InFlight, s.InFlight)
		p.MaxRSS = max(p.MaxRSS, s.MaxRSS)
	}
	for _, s := range p.Samples {
		for k := range kinds {
			kinds[k] = append(kinds[k], s.Requests[k])
		}
	}
	p.Median, p.Min, p.Max = medianOf(walls), slices.Min(walls), slices.Max(walls)
	p.CPU, p.Total = medianOf(cpus), medianOf(totals)
	p.Requests = map[string]int{}
	for k, v := range kinds {
		if m := medianOf(v); m > 0 {
			p.Requests[k] = m
		}
	}
}

type repoInfo struct {
	Files         int            `json:"files"`
	Bytes         int64          `json:"bytes"`
	Kinds         map[string]int `json:"kinds"`
	ManagedRefs   int            `json:"managed_refs"`
	UnmanagedRefs int            `json:"unmanaged_refs"`
	Referenced    int            `json:"repositories_referenced"`
	ScanManaged   int            `json:"scan_managed"`
	ScanOther     int            `json:"scan_other"`
}

type newestResult struct {
	NA            string         `json:"na,omitempty"`
	RefreshArgs   []string       `json:"refresh_args"`
	NewTags       int            `json:"new_tags_per_round"`
	NewFetches    []int          `json:"new_tag_metadata_requests"`
	StaleFetches  []int          `json:"other_metadata_gets"`  // manifest and blob GETs for tags that were not new
	StaleHeads    []int          `json:"other_manifest_heads"` // digest checks of tags that were not new
	StaleExamples []string       `json:"other_examples,omitempty"`
	StaleByKind   map[string]int `json:"other_by_kind,omitempty"` // worst round
}

type target struct {
	Name    string `json:"name"`
	Verdict string `json:"verdict"` // PASS, FAIL, n/a
	Detail  string `json:"detail"`
}

type result struct {
	Command          string         `json:"command"`
	RegistrySettings string         `json:"registry_settings"`
	TTL              string         `json:"cache_ttl"`
	Date             string         `json:"date"`
	Cores            int            `json:"cores"`
	Preset           string         `json:"preset"`
	N                int            `json:"n"`
	R                int            `json:"r"`
	T                int            `json:"t"`
	Runs             int            `json:"runs"`
	Latency          string         `json:"latency"`
	Spread           string         `json:"latency_spread"`
	Throttle         float64        `json:"throttle_rps"`
	PageSize         int            `json:"page_size"`
	Concurrency      int            `json:"concurrency"`
	Bin              string         `json:"bin"`
	SeedTime         string         `json:"seed_time"`
	GenTime          string         `json:"generate_time"`
	Repo             repoInfo       `json:"repository"`
	History          int            `json:"history_commits,omitempty"`
	GrepLines        int            `json:"grep_lines"`
	Features         features       `json:"features"`
	Phases           []*phase       `json:"phases"`
	Newest           newestResult   `json:"newest_build"`
	Targets          []target       `json:"targets"`
	Egress           map[string]int `json:"egress_attempts"`
	Listed           map[string]int `json:"unmanaged_repositories_listed,omitempty"`
	Warnings         []string       `json:"warnings,omitempty"`
}

func numCPU() int { return runtime.NumCPU() }

func (r *result) phase(name string) *phase {
	for _, p := range r.Phases {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// finish computes medians, ratios and verdicts.
func (r *result) finish(gen genResult) {
	for _, p := range r.Phases {
		p.summarise()
	}
	lat, _ := time.ParseDuration(r.Latency)
	spread, _ := time.ParseDuration(r.Spread)
	lat += spread / 2 // the mean
	for _, p := range r.Phases {
		if r.Concurrency > 0 {
			p.Floor = time.Duration(p.Total) * lat / time.Duration(r.Concurrency)
		}
		if b := r.phase(p.Baseline); b != nil && b.Median > 0 {
			p.Ratio = float64(p.Median) / float64(b.Median)
		}
	}
	managed := map[string]bool{}
	for _, repo := range gen.Referenced {
		managed[repo] = true
	}
	r.Listed = map[string]int{}
	var toolSamples []sample
	for _, p := range r.Phases {
		if p.Name == "list" || p.Name == "list-times" || p.Name == "throttle-bound" {
			continue
		}
		for _, s := range p.Samples {
			toolSamples = append(toolSamples, s)
			for repo, n := range s.counts.TagsListByRepo {
				if !managed[repo] {
					r.Listed[repo] += n
				}
			}
			for _, n := range s.Notes {
				if !slices.Contains(r.Warnings, p.Name+": "+n) {
					r.Warnings = append(r.Warnings, p.Name+": "+n)
				}
			}
		}
	}
	if len(r.Listed) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("repositories outside the managed prefix were listed: %v", r.Listed))
	}
	if len(r.Egress) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the tool tried to reach other registries (stopped at the proxy): %v", r.Egress))
	}

	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	ratio := func(p, base *phase) string {
		return fmt.Sprintf("%s / %s = %.2fx", round(p.Median), round(base.Median), p.Ratio)
	}
	var rss int64
	for _, s := range toolSamples {
		rss = max(rss, s.MaxRSS)
	}
	rssTarget := target{"peak RSS under 200 MB", verdict(rss < 200<<20), fmt.Sprintf("%s (worst git-laminar run)", mb(rss))}
	if r.History > 0 {
		gl := r.phase("git-log")
		for _, name := range []string{"log", "status-first", "status"} {
			if p := r.phase(name); p != nil && gl != nil {
				// The machine may be shared: CPU time says the same with less noise.
				d := ratio(p, gl)
				if gl.CPU > 0 {
					d += fmt.Sprintf("; CPU %s / %s = %.2fx", round(p.CPU), round(gl.CPU), float64(p.CPU)/float64(gl.CPU))
				}
				r.Targets = append(r.Targets, target{name + " within 1.5x of git log", verdict(p.Ratio <= 1.5), d})
			}
		}
		r.Targets = append(r.Targets, rssTarget)
		return
	}
	scan, grep, warm := r.phase("scan"), r.phase("grep"), r.phase("warm")
	// The cold target by the kind of work: ranking by version needs the
	// listing only; ranking by creation time needs each candidate's build
	// time, which a plain tag list does not carry (its floor is those
	// requests, Floor of the phase) and a GCR-style list does.
	for _, c := range []struct{ what, phase, base string }{
		{"cold bump within 1.3x of listing: rules ranking by version", "cold-semver", "list"},
		{"cold bump within 1.3x of listing: tag lists with build times", "cold-times", "list-times"},
		{"cold bump within 1.3x of listing: plain tag lists, rules ranking by creation time", "cold", "list"},
	} {
		p, b := r.phase(c.phase), r.phase(c.base)
		if p == nil || b == nil {
			continue
		}
		d := ratio(p, b)
		if p.Floor > b.Median {
			d += fmt.Sprintf("; its %d requests need %s at the listing's concurrency and latency", p.Total, round(p.Floor))
		}
		r.Targets = append(r.Targets, target{c.what, verdict(p.Ratio <= 1.3), d})
	}
	if y, c := r.phase("yes"), r.phase("cold"); y != nil && c != nil {
		r.Targets = append(r.Targets, target{"bump --yes within 1.3x of the dry run", verdict(y.Ratio <= 1.3), ratio(y, c)})
	}
	if th, b := r.phase("throttled"), r.phase("throttle-bound"); th != nil && b != nil {
		var late []int // per mille of each run's requests
		fails := 0
		for _, s := range th.Samples {
			if s.Total > 0 {
				late = append(late, 1000*s.ThrottledLate/s.Total)
			}
			if s.Exit != 0 {
				fails++
			}
		}
		pct := float64(medianOf(late)) / 10
		d := fmt.Sprintf("median %.1f%% of %d requests answered 429 after the first second; %d 429s in all", pct, th.Total, sumThrottled(th))
		if fails > 0 {
			d += fmt.Sprintf("; %d run(s) did not finish cleanly", fails)
		}
		r.Targets = append(r.Targets,
			target{fmt.Sprintf("throttled registry (%g rps): under 5%% 429s after the first second", r.Throttle), verdict(pct < 5 && fails == 0), d},
			target{fmt.Sprintf("throttled registry (%g rps): within 1.2x of what it allows", r.Throttle), boundVerdict(b, th.Ratio <= 1.2), ratio(th, b)},
		)
	}
	r.Targets = append(r.Targets,
		target{"scan within 2x of git grep", verdict(scan.Ratio <= 2), ratio(scan, grep)},
	)
	maxList := 0
	for _, s := range warm.Samples {
		maxList = max(maxList, s.Requests["tags-list"])
	}
	detail := fmt.Sprintf("%d tag-list requests in the worst warm run", maxList)
	if !r.Features.Cache {
		detail += " (no cache: nothing was written to the cache dir)"
	}
	r.Targets = append(r.Targets, target{"warm bump sends no tag-list request", verdict(maxList == 0), detail})

	nb := r.Newest
	switch {
	case nb.NA != "":
		r.Targets = append(r.Targets, target{"newest-build warm fetches metadata only for new tags", "n/a", nb.NA})
	default:
		stale, heads, fresh := slices.Max(nb.StaleFetches), slices.Max(nb.StaleHeads), medianOf(nb.NewFetches)
		// A HEAD per old tag is metadata too: it is what makes the run
		// cost O(candidates) requests, which the target is about.
		d := fmt.Sprintf("%d new tags/round: median %d requests for them; worst round for other tags: %d manifest/config GETs, %d manifest HEADs",
			nb.NewTags, fresh, stale, heads)
		if !r.Features.Cache {
			d += " (no cache)"
		}
		r.Targets = append(r.Targets, target{"newest-build warm fetches metadata only for new tags", verdict(stale+heads == 0), d})
	}
	r.Targets = append(r.Targets, rssTarget)
}

// boundVerdict is verdict(ok), or n/a when the bound is nothing: every
// request fitted in the registry's burst.
func boundVerdict(b *phase, ok bool) string {
	switch {
	case b.Median == 0:
		return "n/a"
	case ok:
		return "PASS"
	}
	return "FAIL"
}

// sumThrottled is the median of the 429s a phase's runs met.
func sumThrottled(p *phase) int {
	var n []int
	for _, s := range p.Samples {
		n = append(n, s.Throttled)
	}
	return medianOf(n)
}

func round(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

func mb(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
}

var kindShort = map[string]string{
	"tags-list": "list", "ping": "ping", "manifest-get": "mGET", "manifest-head": "mHEAD",
	"manifest-put": "mPUT", "blob": "blob", "other": "other",
}

func requestsString(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	keys := slices.Collect(maps.Keys(m))
	order := []string{"ping", "tags-list", "manifest-head", "manifest-get", "blob", "manifest-put", "other"}
	sort.Slice(keys, func(i, j int) bool { return slices.Index(order, keys[i]) < slices.Index(order, keys[j]) })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", kindShort[k], m[k]))
	}
	return strings.Join(parts, ", ")
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "git-laminar bench: preset %s, N=%d files, R=%d repositories, T=%d tags, latency %s + up to %s, page size %d, %d cores, %s\n",
		r.Preset, r.N, r.R, r.T, r.Latency, r.Spread, r.PageSize, r.Cores, r.Date)
	fmt.Fprintf(w, "  %s\n", r.Command)
	fmt.Fprintf(w, "  repository: %d files (%.1f MB), %d managed + %d other references (scan found %d + %d), %d repositories referenced; git grep matches %d lines\n",
		r.Repo.Files, float64(r.Repo.Bytes)/1e6, r.Repo.ManagedRefs, r.Repo.UnmanagedRefs, r.Repo.ScanManaged, r.Repo.ScanOther, r.Repo.Referenced, r.GrepLines)
	if r.History > 0 {
		fmt.Fprintf(w, "  history: %d commits on top of the manifests (git fast-import)\n", r.History)
	}
	fmt.Fprintf(w, "  setup: seeding %s, generating + git commit %s; medians of %d runs (warm-fill: 1)\n", r.SeedTime, r.GenTime, r.Runs)
	cache := "none detected"
	if r.Features.Cache {
		cache = fmt.Sprintf("%d files, %.1f MB after the fill", r.Features.CacheFiles, float64(r.Features.CacheBytes)/1e6)
	}
	refresh := "no"
	if r.Features.Refresh {
		refresh = "yes"
	}
	expire := strings.Join(r.Newest.RefreshArgs, " ")
	if expire == "" {
		expire = "nothing"
	}
	fmt.Fprintf(w, "  tool: cache %s; bump --refresh: %s; tag lists expired for the newest phase by: %s\n", cache, refresh, expire)
	fmt.Fprintf(w, "  laminar.toml: [cache] ttl = %q, [[registry]] %s; lower bound lists %d repositories at once\n\n",
		r.TTL, r.RegistrySettings, r.Concurrency)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase\tmedian\tmin-max\tratio\trequests (median per run)\tnet floor\tin flight\tpeak RSS\tCPU\t")
	for _, p := range r.Phases {
		ratio := "-"
		if p.Baseline != "" {
			ratio = fmt.Sprintf("%.2fx %s", p.Ratio, p.Baseline)
		}
		reqs, inflight, floor := requestsString(p.Requests), fmt.Sprint(p.InFlight), round(p.Floor)
		if p.Name == "grep" || p.Name == "scan" || p.Name == "git-log" || strings.HasPrefix(p.Name, "log") {
			reqs, inflight, floor = "-", "-", "-"
		}
		cpu := "-"
		if p.CPU > 0 {
			cpu = round(p.CPU)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s-%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", p.Name, round(p.Median), round(p.Min), round(p.Max),
			ratio, reqs, floor, inflight, mb(p.MaxRSS), cpu)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, p := range r.Phases {
		fmt.Fprintf(w, "  %-11s %s\n", p.Name, p.What)
	}
	fmt.Fprintf(w, "  net floor = requests x mean latency / %d: the phase's requests back to back at the lower bound's concurrency\n", r.Concurrency)
	fmt.Fprintln(w, "\ntargets:")
	for _, t := range r.Targets {
		mark := t.Verdict
		if mark == "FAIL" {
			mark = "FAIL <<<"
		}
		fmt.Fprintf(w, "  %-8s %-52s %s\n", mark, t.Name, t.Detail)
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w, "\nwarnings:")
		for _, s := range r.Warnings {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
}
