package registry

import (
	"net/http"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

var paceT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms int) time.Time { return paceT0.Add(time.Duration(ms) * time.Millisecond) }

// oldHost makes p a host first asked long ago, so that its rate is
// measured over a whole second.
func oldHost(p *pace) *pace {
	p.sent(at(-5000))
	return p
}

// sendN records n requests sent evenly over the span from ms.
func sendN(p *pace, n, fromMS, spanMS int) {
	for i := range n {
		p.sent(at(fromMS + i*spanMS/n))
	}
}

// The first 429 halves the rate the host was being sent; the 429s to
// requests sent before that cut do not cut again; one to a request sent
// after it does.
func TestPaceHalvesOn429(t *testing.T) {
	p := oldHost(newPace(0))
	if r, lim := p.current(); r != 0 || lim != rate.Inf {
		t.Fatalf("a fresh host is held to %v (limit %v); want no rate", r, lim)
	}
	sendN(p, 40, 0, 500)
	if !p.throttled(at(490), at(510), time.Second) {
		t.Fatal("the first 429 did not cut the rate")
	}
	if r, lim := p.current(); r != 20 || lim != 20 {
		t.Fatalf("after 40 requests in the last second and a 429: rate %v, limit %v; want 20", r, lim)
	}
	if p.throttled(at(495), at(520), time.Second) {
		t.Error("a 429 to a request sent before the cut cut again")
	}
	if r, _ := p.current(); r != 20 {
		t.Errorf("rate %v after a stale 429, want 20", r)
	}
	p.sent(at(1600))
	if !p.throttled(at(1600), at(1620), time.Second) {
		t.Error("a 429 to a request sent after the cut did not cut")
	}
	if r, _ := p.current(); r != 10 {
		t.Errorf("rate %v after the second cut, want 10", r)
	}
	// Never below one request a second, however often it is cut.
	for i := range 20 {
		p.throttled(at(2000+i*100), at(2000+i*100+1), 0)
	}
	if r, _ := p.current(); r != minRate {
		t.Errorf("rate %v after many cuts, want the floor %v", r, minRate)
	}
}

// A 429 or 503 pauses the whole host for what it asked, capped; a longer
// ask does not shorten a pause already longer.
func TestPacePausesHost(t *testing.T) {
	p := newPace(0)
	p.throttled(at(0), at(10), 2*time.Second)
	if got, want := p.pausedUntil(false), at(2010); !got.Equal(want) {
		t.Errorf("paused until %v, want %v", got, want)
	}
	p.throttled(at(5), at(20), time.Second)
	if got, want := p.pausedUntil(true), at(2010); !got.Equal(want) {
		t.Errorf("a shorter Retry-After moved the pause to %v, want %v", got, want)
	}
	p.throttled(at(30), at(40), 72*time.Hour)
	if got, want := p.pausedUntil(false), at(40).Add(MaxRetryAfter); !got.Equal(want) {
		t.Errorf("three days asked: paused until %v, want %v (capped)", got, want)
	}
}

// Answers that are not throttles bring the rate back; answers to requests
// sent before the cut do not count. Where the first 429 came is a guess:
// the rate doubles back in about a second. Where a held rate throttled is
// known: quickly back to nine tenths of it, slowly up to it, then faster.
func TestPaceRecovers(t *testing.T) {
	p := oldHost(newPace(0))
	sendN(p, 80, 0, 1000)
	p.throttled(at(998), at(999), 0)
	if r, _ := p.current(); r != 40 {
		t.Fatalf("rate %v after the cut, want 40", r)
	}
	p.answered(at(900), at(1001))
	if r, _ := p.current(); r != 40 {
		t.Errorf("an answer to a request sent before the cut raised the rate to %v", r)
	}
	// recover answers until the rate reaches r, and says how many it took.
	ms := 1100
	recover := func(r float64) int {
		n := 0
		for cur, _ := p.current(); cur < r; cur, _ = p.current() {
			p.answered(at(ms), at(ms))
			ms++
			n++
			if n > 10000 {
				t.Fatalf("rate %v after 10000 answers: no recovery", cur)
			}
		}
		return n
	}
	// About the rate per second: from 40 to 80 in ~40 answers.
	if n := recover(80); n < 35 || n > 45 {
		t.Errorf("%d answers from 40 back to 80 after a first cut; want ~40", n)
	}
	// Throttled again while held to 80: 80 is known now, the cut takes
	// the rate to 40.
	p.throttled(at(ms), at(ms), 0)
	if r, _ := p.current(); r != 40 {
		t.Fatalf("rate %v after the second cut, want 40", r)
	}
	// A quarter of it (20 rps) per second: from 40 to 72 (0.9 × 80) in
	// 1.6 s, ~90 answers.
	if n := recover(72); n < 80 || n > 100 {
		t.Errorf("%d answers from 40 to 72 after a known 80; want ~90", n)
	}
	// Then a hundredth of the rate per second: about 1 rps in 80 answers.
	before, _ := p.current()
	for range 80 {
		p.answered(at(ms), at(ms))
		ms++
	}
	if after, _ := p.current(); after-before < 0.5 || after-before > 1.5 {
		t.Errorf("80 answers near the known ceiling raised the rate from %.1f by %.2f; want about 0.8", before, after-before)
	}
	// Past it, a quarter of the rate per second: 80 to 100 in ~90 answers.
	recover(80)
	if n := recover(100); n < 80 || n > 100 {
		t.Errorf("%d answers from 80 to 100 past a known 80; want ~90", n)
	}
}

// An explicit rps is a hard cap: whatever the host answers, the tokens
// handed out over ten seconds are at most rps × 10 plus one burst.
func TestPaceExplicitCap(t *testing.T) {
	const rps = 5
	p := newPace(rps)
	granted := 0
	for ms := 0; ms < 10_000; ms++ {
		now := at(ms)
		switch {
		case ms%1000 == 500:
			p.throttled(now, now, 0)
		default:
			p.answered(now, now)
		}
		// A quota saying plenty is left soon changes nothing either.
		if ms%700 == 0 {
			p.quota(quotaInfo{remaining: 1000, reset: 10 * time.Second}, now)
		}
		if r := p.reserve(now); r.OK() {
			if r.DelayFrom(now) == 0 {
				granted++
			} else {
				r.CancelAt(now)
			}
		}
		if _, lim := p.current(); lim > rps {
			t.Fatalf("at %dms the limit is %v, over the rps of %v", ms, lim, rps)
		}
	}
	if granted > rps*10+rps {
		t.Errorf("%d tokens in 10s at rps %d (burst %d)", granted, rps, rps)
	}
	if granted < rps*5 {
		t.Errorf("only %d tokens in 10s at rps %d: the cap is not the only limit", granted, rps)
	}
}

// The tokens of an unthrottled host are unlimited; a throttled one's are
// paced at its learned rate, one at a time.
func TestPaceTokens(t *testing.T) {
	p := oldHost(newPace(0))
	for i := range 1000 {
		if d := p.reserve(at(0)).DelayFrom(at(0)); d != 0 {
			t.Fatalf("token %d of an unthrottled host: wait %v", i, d)
		}
	}
	sendN(p, 20, 0, 1000)
	p.throttled(at(1000), at(1000), 0) // 10 rps
	granted := 0
	for ms := 1000; ms < 3000; ms++ {
		if r := p.reserve(at(ms)); r.DelayFrom(at(ms)) == 0 {
			granted++
		} else {
			r.CancelAt(at(ms))
		}
	}
	if granted < 19 || granted > 21 {
		t.Errorf("%d tokens in 2s at 10 rps, want ~20", granted)
	}
}

// Quota headers: a spent quota pauses what it counts until it resets
// (capped); a short window is spread over what is left of it.
func TestPaceQuota(t *testing.T) {
	p := newPace(0)
	p.quota(quotaInfo{remaining: 0, window: 6 * time.Hour}, at(0))
	if got := p.pausedUntil(false); !got.IsZero() {
		t.Errorf("a spent quota paused requests it does not count, until %v", got)
	}
	if got, want := p.pausedUntil(true), at(0).Add(MaxRetryAfter); !got.Equal(want) {
		t.Errorf("a spent 6h quota pauses counted requests until %v, want %v", got, want)
	}
	p = newPace(0)
	p.quota(quotaInfo{remaining: 100, reset: 20 * time.Second}, at(0))
	if _, lim := p.current(); lim != 5 {
		t.Errorf("100 left for 20s: limit %v, want 5", lim)
	}
	p.reserve(at(25_000))
	if _, lim := p.current(); lim != rate.Inf {
		t.Errorf("after the reset the limit is still %v", lim)
	}
	// A long window is not spread: 76 pulls left for six hours would hold
	// a run to one request every five minutes.
	p = newPace(0)
	p.quota(quotaInfo{remaining: 76, window: 6 * time.Hour}, at(0))
	if _, lim := p.current(); lim != rate.Inf {
		t.Errorf("76 left of a 6h window: limit %v, want none", lim)
	}
}

func TestParseQuota(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    map[string]string
		want quotaInfo
		ok   bool
	}{
		{"docker hub", map[string]string{"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "76;w=21600"},
			quotaInfo{remaining: 76, window: 6 * time.Hour}, true},
		{"docker hub spent", map[string]string{"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "0;w=21600"},
			quotaInfo{remaining: 0, window: 6 * time.Hour}, true},
		{"draft -06", map[string]string{"RateLimit-Limit": "10", "RateLimit-Remaining": "1", "RateLimit-Reset": "7", "RateLimit-Policy": "10;w=60"},
			quotaInfo{remaining: 1, reset: 7 * time.Second, window: time.Minute}, true},
		{"draft -07", map[string]string{"RateLimit": "limit=10, remaining=4, reset=30"},
			quotaInfo{remaining: 4, reset: 30 * time.Second}, true},
		{"draft -08", map[string]string{"RateLimit": `"default";r=50;t=30`, "RateLimit-Policy": `"default";q=100;w=60`},
			quotaInfo{remaining: 50, reset: 30 * time.Second, window: time.Minute}, true},
		{"draft -08, least left wins", map[string]string{"RateLimit": `"burst";r=9;t=5, "daily";r=3;t=3600`},
			quotaInfo{remaining: 3, reset: time.Hour}, true},
		{"none", map[string]string{"X-RateLimit": "5"}, quotaInfo{}, false},
		{"garbage", map[string]string{"RateLimit-Remaining": "lots", "RateLimit": "r=;t=x"}, quotaInfo{}, false},
		{"negative", map[string]string{"RateLimit-Remaining": "-5"}, quotaInfo{}, false},
		{"huge", map[string]string{"RateLimit-Remaining": "99999999999999999999"}, quotaInfo{}, false},
		{"huge reset is capped", map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": "999999999999"},
			quotaInfo{remaining: 0, reset: 1000 * MaxRetryAfter}, true},
	} {
		h := http.Header{}
		for k, v := range tt.h {
			h.Set(k, v)
		}
		got, ok := parseQuota(h)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: parseQuota = %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// Docker Hub's pull budget counts manifest GETs; elsewhere a quota counts
// every request.
func TestQuotaCounts(t *testing.T) {
	for _, tt := range []struct {
		host, method, path string
		want               bool
	}{
		{"index.docker.io", http.MethodGet, "/v2/library/nginx/manifests/1.27", true},
		{"index.docker.io", http.MethodHead, "/v2/library/nginx/manifests/1.27", false},
		{"index.docker.io", http.MethodGet, "/v2/library/nginx/tags/list", false},
		{"registry-1.docker.io", http.MethodGet, "/v2/library/nginx/blobs/sha256:00", false},
		{"ghcr.io", http.MethodGet, "/v2/acme/app/tags/list", true},
		{"ghcr.io", http.MethodHead, "/v2/acme/app/manifests/v1", true},
	} {
		req, _ := http.NewRequest(tt.method, "https://"+tt.host+tt.path, nil)
		if got := quotaCounts(tt.host, req); got != tt.want {
			t.Errorf("%s %s%s: counted %v, want %v", tt.method, tt.host, tt.path, got, tt.want)
		}
	}
}
