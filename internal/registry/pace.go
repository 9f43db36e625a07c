package registry

import (
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// How fast a host is asked. A registry publishes its limits rarely and
// differently; what it always does when asked too fast is answer 429 (or
// 503) and often say for how long to stay away. So a host starts with no
// rate of its own, bounded only by its requests in flight, and learns:
//
//   - a 429 or 503 pauses every request to the host for what Retry-After
//     asks (at most MaxRetryAfter) or the backoff, and halves the rate: the
//     rate the host was held to, or, the first time, the rate at which it
//     was being sent requests over the last second;
//   - the answers in flight when the rate was cut were sent at the old
//     rate: they do not cut it again;
//   - each answer that is not a throttle raises the rate again: where the
//     host throttled is a guess (the first 429, before the host was held
//     to a rate), by about the rate per
//     second; where it is known, by a quarter of that rate per second up
//     to nine tenths of it, by a hundredth of the rate per second up to
//     it (where it will likely throttle again), then by a quarter of the
//     rate per second, probing for more;
//   - quota headers (Docker Hub's ratelimit-remaining, the IETF draft's
//     RateLimit and RateLimit-Policy, see quota.go) pause the requests the
//     quota counts once it is spent (on Docker Hub, manifest GETs only),
//     and spread a quota that resets within a minute over what is left of
//     that minute;
//   - an explicit rps is a hard cap that nothing above raises the rate
//     past.

// MaxRetryAfter bounds how long a Retry-After (or a spent quota) pauses a
// host: a registry asking for days, by mistake or in malice, gets a pause
// this long, and requests that cannot wait even that long within their
// retry budget fail at once as rate limited rather than hang a run.
const MaxRetryAfter = time.Minute

const (
	minRate     = 1.0 // requests per second a throttled host is never held below
	paceWindow  = time.Second
	minSpan     = 50 * time.Millisecond
	quotaWindow = time.Minute // a quota reset sooner than this is spread over the time left
)

// pace is the adaptive rate of one host.
type pace struct {
	mu      sync.Mutex
	hard    float64 // explicit rps; 0: none
	rate    float64 // learned rate; 0: not throttled yet, no cap
	ceiling float64 // the rate the host last throttled at
	known   bool    // the ceiling was measured at a rate the host was held to
	lastCut time.Time
	sends   []time.Time // in the last paceWindow, oldest first
	first   time.Time   // of all requests
	lim     *rate.Limiter

	pauseUntil time.Time // every request waits until then

	// From quota headers: until quotaUntil, requests the quota counts
	// wait for quotaPause and are held to quotaRate (0: no cap).
	quotaRate  float64
	quotaUntil time.Time
	quotaPause time.Time
}

func newPace(hard float64) *pace {
	if !(hard > 0) || math.IsInf(hard, 1) {
		hard = 0
	}
	p := &pace{hard: hard, lim: rate.NewLimiter(rate.Inf, 1)}
	p.applyLocked(time.Now())
	return p
}

// limitLocked is the rate the host is held to now and its burst.
func (p *pace) limitLocked(now time.Time) (rate.Limit, int) {
	r := math.Inf(1)
	burst := 1
	if p.hard > 0 {
		// An explicit rps allows a burst of one second's worth: a run's
		// first requests go out at once, a long run settles at rps.
		r, burst = p.hard, max(1, int(p.hard))
	}
	learned := p.rate
	if p.quotaRate > 0 && now.Before(p.quotaUntil) && (learned == 0 || p.quotaRate < learned) {
		learned = p.quotaRate
	}
	if learned > 0 && learned < r {
		// A learned rate is paced evenly: a burst after a pause is what
		// drained the registry's bucket in the first place.
		r, burst = learned, 1
	}
	if math.IsInf(r, 1) {
		return rate.Inf, burst
	}
	return rate.Limit(r), burst
}

func (p *pace) applyLocked(now time.Time) {
	r, b := p.limitLocked(now)
	if p.lim.Limit() != r {
		p.lim.SetLimitAt(now, r)
	}
	if p.lim.Burst() != b {
		p.lim.SetBurstAt(now, b)
	}
}

// sent records that a request went out at now.
func (p *pace) sent(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.first.IsZero() {
		p.first = now
	}
	p.trimLocked(now)
	p.sends = append(p.sends, now)
}

func (p *pace) trimLocked(now time.Time) {
	i := 0
	for i < len(p.sends) && now.Sub(p.sends[i]) >= paceWindow {
		i++
	}
	if i > 0 {
		p.sends = append(p.sends[:0], p.sends[i:]...)
	}
}

// throttled records a 429 or 503 to a request sent at sentAt, answered at
// now, which asked to stay away for wait: the host pauses, and the first
// such answer to a request sent since the last cut halves the rate. It
// reports whether it cut.
func (p *pace) throttled(sentAt, now time.Time, wait time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	// A pause is the registry's to ask, whenever the request was sent.
	if until := now.Add(min(wait, MaxRetryAfter)); until.After(p.pauseUntil) {
		p.pauseUntil = until
	}
	if sentAt.Before(p.lastCut) {
		return false
	}
	// The rate the host was being sent: over the last second, or since
	// the first request when the host is younger than that (but not so
	// young that one request looks like a thousand a second). A rate the
	// host was held to counts only as far as it was used.
	p.trimLocked(now)
	span := paceWindow
	from := p.first
	if p.lastCut.After(from) {
		from = p.lastCut
	}
	if now.Sub(from) < span {
		// Since the host's first request, or since the last pause ended.
		span = max(now.Sub(from), minSpan)
	}
	cur := float64(len(p.sends)) / span.Seconds()
	// Held to a rate: the ceiling is known, the rate or, measured over a
	// whole second, what was used of it. Throttled while free, perhaps
	// before the requests had got going: it is a guess.
	p.known = p.rate > 0
	if p.rate > 0 && (span < paceWindow || cur > p.rate) {
		cur = p.rate
	}
	if p.hard > 0 {
		cur = min(cur, p.hard)
	}
	p.ceiling = max(cur, minRate)
	p.rate = max(cur/2, minRate)
	// The answers to requests sent before the pause ends were asked at
	// the old rate: the next cut is for a request sent after it.
	p.lastCut = now
	if p.pauseUntil.After(now) {
		p.lastCut = p.pauseUntil
	}
	p.applyLocked(now)
	return true
}

// answered records an answer that is not a throttle to a request sent at
// sentAt: the rate grows back.
func (p *pace) answered(sentAt, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rate == 0 || sentAt.Before(p.lastCut) {
		return
	}
	// Per answer, so that per second it adds about step. Where the host
	// throttled is a guess: double every second or so until it throttles
	// again. Known: quickly back to nine tenths of it, then slowly up to
	// it, where it will likely throttle again, then faster: the host's
	// limit has moved.
	var step float64
	switch {
	case !p.known:
		step = max(minRate, p.rate)
	case p.rate < 0.9*p.ceiling:
		step = max(minRate, p.ceiling/4)
	case p.rate < p.ceiling:
		step = max(minRate/4, p.rate/100)
	default:
		step = max(minRate, p.rate/4)
	}
	p.rate += step / p.rate
	if p.hard > 0 {
		p.rate = min(p.rate, p.hard)
	}
	p.applyLocked(now)
}

// current is the learned rate (0: none) and the rate limit in force.
func (p *pace) current() (learned float64, limit rate.Limit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate, p.lim.Limit()
}

// pausedUntil is when requests to the host may go out again; counted says
// whether the request is one its quota counts.
func (p *pace) pausedUntil(counted bool) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.pauseUntil
	if counted && p.quotaPause.After(t) {
		t = p.quotaPause
	}
	return t
}

// reserve takes a token at now for a request and says how long to wait
// for it; the reservation is cancelled if the request gives up waiting.
func (p *pace) reserve(now time.Time) *rate.Reservation {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.applyLocked(now) // a quota's rate may have run out
	return p.lim.ReserveN(now, 1)
}

// quota records what an answer's quota headers say, for the requests the
// quota counts.
func (p *pace) quota(q quotaInfo, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case q.remaining == 0:
		reset := q.reset
		if reset <= 0 {
			reset = q.window
		}
		if reset <= 0 {
			return // spent, but no word on when it comes back: the 429s will say
		}
		if until := now.Add(min(reset, MaxRetryAfter)); until.After(p.quotaPause) {
			p.quotaPause = until
		}
	case q.reset > 0 && q.reset <= quotaWindow:
		p.quotaRate = max(float64(q.remaining)/q.reset.Seconds(), minRate)
		p.quotaUntil = now.Add(q.reset)
	default:
		return
	}
	p.applyLocked(now)
}

// throttle reports whether an answer says the host is asked too fast.
// maxThrottledTries bounds the tries of one request, however many of them
// were refused for other requests' haste (see limiter.roundTrip).
const maxThrottledTries = 16

func throttle(resp *http.Response) bool {
	return resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable)
}
