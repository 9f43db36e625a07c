package app

import (
	"time"

	"context"

	"github.com/git-laminar/git-laminar/internal/metrics"
	"github.com/git-laminar/git-laminar/internal/notify"
)

// finish logs the outcome, writes the metrics file and sends the
// notification. Their own failures are logged; they do not change the
// status.
func (r *runner) finish(ctx context.Context, status Status, runErr error) {
	finished := r.deps.now()
	r.rep.Status = status
	r.rep.Duration = finished.Sub(r.rep.Started)
	if r.reg != nil {
		r.rep.Registry = statsSince(r.reg.Stats(), r.regBase)
	}
	attrs := []any{"status", int(status), "duration", r.rep.Duration.Round(time.Millisecond).String()}
	if r.rep.Commit != "" {
		attrs = append(attrs, "commit", r.rep.Commit, "pushed", r.rep.Pushed)
		if r.rep.Proposed() {
			attrs = append(attrs, "pull_requests", len(r.rep.PullRequests))
		}
	}
	switch {
	case runErr != nil && status != StatusOK:
		r.log.Error("failed", append(attrs, "error", runErr.Error())...)
	case status == StatusPartial:
		r.log.Warn("done; some images failed", attrs...)
	default:
		r.log.Info("done", attrs...)
	}
	if r.ws == nil || r.rep.Locked {
		return
	}
	failed := status != StatusOK && status != StatusPartial
	if r.opt.MetricsFile != "" {
		m := metrics.Run{
			Repository: r.rep.Repository, Started: r.rep.Started, Finished: finished,
			Failures: len(r.rep.Failures), Failed: failed,
		}
		if r.rep.Pushed || r.rep.Proposed() {
			m.Promotions = len(r.rep.Promotions)
		}
		for _, pr := range r.rep.PullRequests {
			m.PullRequests = append(m.PullRequests, metrics.PullRequest{Action: pr.Action, URL: pr.URL})
		}
		if r.reg != nil {
			rs := r.rep.Registry
			m.Requests = map[string]int64{
				"tag_list": rs.TagListPages, "manifest_head": rs.ManifestHeads, "manifest_get": rs.ManifestGets,
				"blob": rs.BlobGets, "ping": rs.Pings, "other": rs.Other,
			}
		}
		if err := metrics.WriteTextfile(r.opt.MetricsFile, m); err != nil {
			r.log.Warn("writing the metrics file failed", "path", r.opt.MetricsFile, "error", err.Error())
		}
	}
	if n := r.ws.Config.Notify; n.Enabled() {
		url, err := n.WebhookURL(r.getenv)
		if err != nil {
			r.log.Warn("notification not sent", "error", err.Error())
			return
		}
		sum := notify.Summary{
			Repository: r.rep.Repository, Branch: r.rep.Branch, Commit: r.rep.Commit, Pushed: r.rep.Pushed,
			Started: r.rep.Started, Finished: finished,
		}
		for _, f := range r.rep.Failures {
			sum.Failures = append(sum.Failures, notify.Failure(f))
		}
		for _, pr := range r.rep.PullRequests {
			sum.PullRequests = append(sum.PullRequests, notify.PullRequest{Action: pr.Action, Number: pr.Number, URL: pr.URL, Branch: pr.Branch})
		}
		if r.rep.Pushed || r.rep.Proposed() {
			for _, p := range r.rep.Promotions {
				sum.Promotions = append(sum.Promotions, notify.Promotion(p))
			}
		}
		if failed && runErr != nil {
			sum.Error = runErr.Error()
		}
		if err := notify.Send(ctx, notify.Config{URL: url, Format: n.Format, Timeout: n.Timeout}, sum); err != nil {
			r.log.Warn("notification failed", "error", err.Error())
		}
	}
}
