package registry

import (
	"net/http"
	"testing"
	"time"
)

// FuzzQuotaHeaders feeds a registry's throttle headers, Retry-After and
// the quota fields, to their parsers and to a host's pace: whatever they
// say, nothing panics, a wait is never negative nor over MaxRetryAfter, a
// quota is never negative, and the host is never paused beyond the cap.
// Seeds in testdata/fuzz/FuzzQuotaHeaders.
func FuzzQuotaHeaders(f *testing.F) {
	f.Add("1", "", "", "", "")
	f.Add("Fri, 02 Jan 2026 03:04:15 GMT", "", "", "", "")
	f.Add("", `"default";r=0;t=30`, `"default";q=100;w=60`, "", "")
	f.Add("", "", "", "76;w=21600", "100;w=21600")
	f.Add("", "limit=10, remaining=0, reset=7", "", "", "")
	f.Fuzz(func(t *testing.T, retryAfter, rl, policy, remaining, limit string) {
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		if d, ok := parseRetryAfter(retryAfter, now); ok && (d < 0 || d > MaxRetryAfter) {
			t.Fatalf("parseRetryAfter(%q) = %v", retryAfter, d)
		}
		h := http.Header{}
		for k, v := range map[string]string{"RateLimit": rl, "RateLimit-Policy": policy, "RateLimit-Remaining": remaining, "RateLimit-Limit": limit} {
			if v != "" {
				h.Set(k, v)
			}
		}
		q, ok := parseQuota(h)
		if !ok {
			return
		}
		if q.remaining < 0 || q.reset < 0 || q.window < 0 {
			t.Fatalf("parseQuota = %+v", q)
		}
		p := newPace(0)
		p.quota(q, now)
		if until := p.pausedUntil(true); until.Sub(now) > MaxRetryAfter {
			t.Fatalf("quota %+v paused the host until %v", q, until)
		}
		if _, lim := p.current(); lim <= 0 {
			t.Fatalf("quota %+v set the limit to %v", q, lim)
		}
	})
}
