// Package metrics writes what a run did as Prometheus metrics in a file
// for node_exporter's textfile collector (--collector.textfile.directory):
// the promotions and failures of the last run, its duration, the registry
// requests it made and the time of the last successful run.
//
// A textfile holds the state of the last run, so the per-run values are
// gauges. Two values carry over from the previous file, which is read
// before it is replaced: the time of the last success (a failed run keeps
// it, so `time() - laminar_last_success_timestamp_seconds` alerts on a run
// that keeps failing) and the running totals laminar_promotions_total and
// laminar_failures_total (for increase() over a day, however often runs
// happen between scrapes).
//
// The file is written with the Prometheus client library to a temporary
// file in the same directory and renamed over the old one, so the
// collector never reads half a file. Give it a name ending in ".prom",
// one per repository.
package metrics

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Run is what one run did.
type Run struct {
	// Repository is the value of the "repository" label: a name for the
	// repository, such as its remote URL without credentials or its path.
	Repository string
	Started    time.Time
	Finished   time.Time
	Promotions int // promotions committed
	Failures   int // images that could not be handled
	// Failed is true when the run as a whole failed (configuration,
	// exec action, commit, push, ...). A run succeeds when it did not fail
	// and no image failed.
	Failed bool
	// Requests counts the HTTP requests sent to registries by kind; the
	// keys become the "kind" label (for instance "tag_list",
	// "manifest_head", "manifest_get", "blob", "ping", "other"). Nil is
	// fine.
	Requests map[string]int64
	// PullRequests are the pull or merge requests the run opened, updated
	// or closed (pull request mode: its promotions were proposed, not
	// pushed).
	PullRequests []PullRequest
}

// PullRequest is a request a run acted on.
type PullRequest struct {
	Action string // "opened", "updated", "unchanged" or "closed"
	URL    string
}

// Success reports whether the run counts as a success.
func (r Run) Success() bool { return !r.Failed && r.Failures == 0 }

// Metric names; a contract for dashboards and alerts.
const (
	NameRunPromotions     = "laminar_run_promotions"
	NameRunFailures       = "laminar_run_failures"
	NameRunSuccess        = "laminar_run_success"
	NameRunDuration       = "laminar_run_duration_seconds"
	NameRunTimestamp      = "laminar_run_timestamp_seconds"
	NameRegistryRequests  = "laminar_registry_requests"
	NameRunPullRequests   = "laminar_run_pull_requests"
	NameLastSuccess       = "laminar_last_success_timestamp_seconds"
	NamePromotionsTotal   = "laminar_promotions_total"
	NameFailuresTotal     = "laminar_failures_total"
	labelRepository       = "repository"
	labelKind             = "kind"
	labelAction           = "action"
	labelURL              = "url"
	previousFileSizeLimit = 1 << 20
)

// WriteTextfile replaces the file at path with the metrics of run, carrying
// over the last success time and the totals from the file it replaces
// (values of other repositories in that file are not kept: use one file
// per repository). An unreadable previous file is not an error; the values
// start afresh.
func WriteTextfile(path string, run Run) error {
	prev := readPrevious(path, run.Repository)
	reg, err := build(run, prev)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		return fmt.Errorf("metrics: writing %s: %w", path, err)
	}
	return nil
}

// previous is what carries over from the file being replaced.
type previous struct {
	lastSuccess      float64 // 0: never
	promotions, fail float64
}

func build(run Run, prev previous) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	constLabels := prometheus.Labels{labelRepository: run.Repository}
	gauge := func(name, help string, v float64) error {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: constLabels})
		g.Set(v)
		return reg.Register(g)
	}
	counter := func(name, help string, v float64) error {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: constLabels})
		c.Add(v)
		return reg.Register(c)
	}
	success := 0.0
	last := prev.lastSuccess
	if run.Success() {
		success = 1
		last = unix(run.Finished)
	}
	duration := 0.0
	if !run.Started.IsZero() && run.Finished.After(run.Started) {
		duration = run.Finished.Sub(run.Started).Seconds()
	}
	errs := []error{
		gauge(NameRunPromotions, "Promotions committed by the last run.", float64(run.Promotions)),
		gauge(NameRunFailures, "Images the last run could not handle.", float64(run.Failures)),
		gauge(NameRunSuccess, "1 if the last run succeeded (no image failed, nothing else failed), else 0.", success),
		gauge(NameRunDuration, "Duration of the last run.", duration),
		gauge(NameRunTimestamp, "When the last run finished, in seconds since the epoch.", unix(run.Finished)),
		counter(NamePromotionsTotal, "Promotions committed by every run recorded in this file.", prev.promotions+float64(run.Promotions)),
		counter(NameFailuresTotal, "Image failures of every run recorded in this file.", prev.fail+float64(run.Failures)),
	}
	if last > 0 {
		errs = append(errs, gauge(NameLastSuccess, "When a run last succeeded, in seconds since the epoch.", last))
	}
	kinds := make([]string, 0, len(run.Requests))
	for k := range run.Requests {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	req := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: NameRegistryRequests, Help: "HTTP requests the last run sent to registries, by kind.", ConstLabels: constLabels,
	}, []string{labelKind})
	for _, k := range kinds {
		req.WithLabelValues(k).Set(float64(run.Requests[k]))
	}
	if len(kinds) > 0 {
		errs = append(errs, reg.Register(req))
	}
	if len(run.PullRequests) > 0 {
		prs := prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: NameRunPullRequests, Help: "Pull requests the last run opened, updated, left unchanged or closed, by action and URL.", ConstLabels: constLabels,
		}, []string{labelAction, labelURL})
		for _, pr := range run.PullRequests {
			prs.WithLabelValues(pr.Action, pr.URL).Add(1)
		}
		errs = append(errs, reg.Register(prs))
	}
	return reg, errors.Join(errs...)
}

func unix(t time.Time) float64 {
	if t.IsZero() {
		t = time.Now()
	}
	return float64(t.UnixMilli()) / 1000
}

// readPrevious reads the values that carry over from the file at path, for
// the given repository label.
func readPrevious(path, repository string) previous {
	var p previous
	f, err := os.Open(path)
	if err != nil {
		return p
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() > previousFileSizeLimit {
		return p
	}
	families, err := Parse(f)
	if err != nil {
		return p
	}
	value := func(name string) float64 {
		mf := families[name]
		if mf == nil {
			return 0
		}
		for _, m := range mf.GetMetric() {
			if labelValue(m, labelRepository) != repository {
				continue
			}
			switch {
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetUntyped() != nil:
				return m.GetUntyped().GetValue()
			}
		}
		return 0
	}
	p.lastSuccess = value(NameLastSuccess)
	p.promotions = value(NamePromotionsTotal)
	p.fail = value(NameFailuresTotal)
	return p
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// Parse reads metrics in the text format, as the textfile collector does.
func Parse(r io.Reader) (map[string]*dto.MetricFamily, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(r)
}
