package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serverMetrics are the service's Prometheus metrics, on a registry of
// their own: every name starts with laminar_.
type serverMetrics struct {
	reg          *prometheus.Registry
	runs         *prometheus.CounterVec
	promotions   *prometheus.CounterVec
	failures     *prometheus.CounterVec
	imageFails   *prometheus.CounterVec
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	lastSuccess  *prometheus.GaugeVec
	lastRun      *prometheus.GaugeVec
	webhooks     *prometheus.CounterVec
	repositories prometheus.Gauge
}

func newMetrics() *serverMetrics {
	m := &serverMetrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "laminar_runs_total", Help: "Jobs run, by repository, job (run or promote), trigger (clock, api, webhook) and result.",
		}, []string{"repository", "job", "trigger", "result"}),
		promotions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "laminar_promotions_total", Help: "Promotions pushed (or proposed), by repository.",
		}, []string{"repository"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "laminar_failures_total", Help: "Jobs that failed, by repository.",
		}, []string{"repository"}),
		imageFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "laminar_image_failures_total", Help: "Images a job could not handle, by repository.",
		}, []string{"repository"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "laminar_registry_requests_total", Help: "HTTP requests sent to registries, by kind and host.",
		}, []string{"kind", "host"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "laminar_run_duration_seconds", Help: "How long jobs took, by repository.",
			Buckets: []float64{0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600},
		}, []string{"repository"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "laminar_last_success_timestamp_seconds", Help: "When a job of the repository last succeeded, in seconds since the epoch.",
		}, []string{"repository"}),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "laminar_last_run_timestamp_seconds", Help: "When a job of the repository last finished, in seconds since the epoch.",
		}, []string{"repository"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "laminar_webhooks_total", Help: "Webhook requests, by source and result (accepted, refused, invalid).",
		}, []string{"source", "result"}),
		repositories: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "laminar_repositories", Help: "Repositories this service (shard) keeps promoted.",
		}),
	}
	m.reg.MustRegister(m.runs, m.promotions, m.failures, m.imageFails, m.requests, m.duration,
		m.lastSuccess, m.lastRun, m.webhooks, m.repositories)
	return m
}

func (m *serverMetrics) observe(repository, job, trigger string, o Outcome) {
	m.runs.WithLabelValues(repository, job, trigger, o.Result).Inc()
	// Every label value exists from the first job, so rate() and
	// increase() see the first promotion.
	m.promotions.WithLabelValues(repository).Add(0)
	m.failures.WithLabelValues(repository).Add(0)
	m.imageFails.WithLabelValues(repository).Add(float64(len(o.Failures)))
	if o.Pushed {
		m.promotions.WithLabelValues(repository).Add(float64(len(o.Promotions)))
	}
	if o.Result == "failed" {
		m.failures.WithLabelValues(repository).Inc()
	}
	for _, rc := range o.Requests {
		m.requests.WithLabelValues(rc.Kind, rc.Host).Add(float64(rc.N))
	}
	if !o.Finished.IsZero() {
		m.duration.WithLabelValues(repository).Observe(o.Finished.Sub(o.Started).Seconds())
		m.lastRun.WithLabelValues(repository).Set(float64(o.Finished.UnixMilli()) / 1000)
		if o.Result == "promoted" || o.Result == "up-to-date" {
			m.lastSuccess.WithLabelValues(repository).Set(float64(o.Finished.UnixMilli()) / 1000)
		}
	}
}

func (m *serverMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
