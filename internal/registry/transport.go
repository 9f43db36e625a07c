package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// limiter is the bottom of the client's HTTP stack, under ggcr's
// authentication: every request to a registry, token exchanges and pings
// included, passes through it once per attempt. It gives each host its own
// bound on requests in flight and its own adaptive rate and pause after a
// 429 or 503 (see pace.go), so a slow, failing or throttling registry
// never holds up another; it bounds requests in flight overall; it times
// out each request; it retries 429, 408 and 5xx answers and dropped
// connections with exponential backoff and jitter, honouring Retry-After;
// and it counts what it sends.
//
// Connections are reused: hosts without TLS settings of their own share one
// *http.Transport; a host with a CA bundle, client certificate or insecure
// gets one of its own.
type limiter struct {
	base    http.RoundTripper
	global  chan struct{}
	retry   retryPolicy
	defs    hostSettings // defaults for every host
	set     *settingsSet
	stats   *counters
	limits  Limits // on every answer's body, and each repository's budget
	sleepFn func(ctx context.Context, d time.Duration) error
	// keys, when set, refuses credentials over plain HTTP to a host they
	// were not handed out for (see guard.go).
	keys *watchedKeychain

	mu    sync.Mutex
	hosts map[string]*host

	pings pings // one authentication ping per scheme and host per run
}

type retryPolicy struct {
	attempts int           // tries in all, first included
	base     time.Duration // wait before the second try
	factor   float64
	jitter   float64       // fraction of each wait that is random
	max      time.Duration // longest backoff wait (Retry-After may ask more, within budget)
	budget   time.Duration // a request gives up rather than wait beyond this since it started
}

type host struct {
	name    string
	sem     chan struct{}
	pace    *pace
	timeout time.Duration
	rt      http.RoundTripper
	initErr error

	forceTLS  bool        // CA or client certificate configured: speak HTTPS even where ggcr chose HTTP
	insecure  bool        // may fall back to plain HTTP
	plainHTTP atomic.Bool // learned: the host does not speak TLS
}

func newLimiter(base http.RoundTripper, concurrency int, rp retryPolicy, defs hostSettings, set *settingsSet, stats *counters) *limiter {
	return &limiter{
		base:    base,
		global:  make(chan struct{}, concurrency),
		retry:   rp,
		defs:    defs,
		set:     set,
		stats:   stats,
		sleepFn: sleep,
		hosts:   map[string]*host{},
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// host returns the state of a host ("name[:port]"), made on first use.
func (l *limiter) host(name string) *host {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h, ok := l.hosts[name]; ok {
		return h
	}
	hs := l.set.host(name)
	conc := cmpOr(hs.concurrency, l.defs.concurrency)
	h := &host{
		name:     name,
		sem:      make(chan struct{}, conc),
		timeout:  cmpOr(hs.timeout, l.defs.timeout),
		rt:       l.base,
		forceTLS: hs.caFile != "" || hs.certFile != "",
		insecure: hs.insecure,
		pace:     newPace(cmpOr(hs.rps, l.defs.rps)),
	}
	if h.forceTLS || h.insecure {
		h.rt, h.initErr = tlsTransport(l.base, hs)
	}
	l.hosts[name] = h
	return h
}

func cmpOr[T comparable](a, b T) T {
	var zero T
	if a != zero {
		return a
	}
	return b
}

// tlsTransport clones base with the host's CA bundle, client certificate
// or skipped verification. Errors name the file and where it was set.
func tlsTransport(base http.RoundTripper, hs hostSettings) (http.RoundTripper, error) {
	bt, ok := base.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("TLS settings at %s need the default transport", hs.source)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if bt.TLSClientConfig != nil {
		cfg = bt.TLSClientConfig.Clone()
	}
	where := ""
	if hs.source != "" {
		where = " (registry settings at " + hs.source + ")"
	}
	if hs.caFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		pem, err := os.ReadFile(hs.caFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w%s", err, where)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate in it%s", hs.caFile, where)
		}
		cfg.RootCAs = pool
	}
	if hs.certFile != "" {
		cert, err := tls.LoadX509KeyPair(hs.certFile, hs.keyFile)
		if err != nil {
			// The error names the files, never their contents.
			return nil, fmt.Errorf("cert_file %s, key_file %s: %v%s", hs.certFile, hs.keyFile, err, where)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if hs.insecure {
		cfg.InsecureSkipVerify = true
	}
	t := bt.Clone()
	t.TLSClientConfig = cfg
	return t, nil
}

// RoundTrip sends req, retrying as the policy allows. Pings are sent once
// per scheme and host (see ping.go).
func (l *limiter) RoundTrip(req *http.Request) (*http.Response, error) {
	if isPing(req) {
		return l.pings.ping(req, l.roundTrip)
	}
	return l.roundTrip(req)
}

func (l *limiter) roundTrip(req *http.Request) (*http.Response, error) {
	h := l.host(req.URL.Host)
	if h.initErr != nil {
		return nil, h.initErr
	}
	// Plain HTTP: ggcr chose it, or an insecure host may fall back to it.
	if plain := !h.forceTLS && (req.URL.Scheme == "http" || h.insecure); plain && l.keys != nil {
		if err := l.keys.checkPlain(req); err != nil {
			return nil, err
		}
	}
	ctx := req.Context()
	start := time.Now()
	deadline := start.Add(l.retry.budget)
	counted := quotaCounts(h.name, req)
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	// stale counts the 429s and 503s that answered a try sent before the
	// host's last slow-down took effect: that try was asked at the old
	// rate, so it does not use up the request's tries. When many requests
	// resume together after a pause, one of them may otherwise be refused
	// for the others' haste until it has no try left. A try sent at the
	// new rate and refused counts, so a registry that refuses for ever
	// still fails the request after its tries (and maxThrottledTries, and
	// the retry budget, bound it however the tries were spent).
	stale := 0
	for attempt := 1; ; attempt++ {
		try := req
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			try = req.Clone(ctx)
			try.Body = body
		}
		resp, sentAt, err := l.once(try, h, deadline, counted)
		if throttle(resp) {
			// Everyone asking this host waits, not only this request,
			// and the host is asked more slowly from now on.
			wait, _ := l.retryAfter(resp, nil, attempt)
			if !h.pace.throttled(sentAt, time.Now(), wait) {
				stale++
			}
		}
		if ctx.Err() != nil || !replayable || attempt-stale >= l.retry.attempts || attempt >= maxThrottledTries {
			return resp, err
		}
		wait, ok := l.retryAfter(resp, err, attempt)
		if !ok {
			return resp, err
		}
		if time.Since(start)+wait > l.retry.budget {
			// Waiting longer than a request may take helps no one: hand
			// the failure (often a 429 with a long Retry-After) up.
			return resp, err
		}
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
			return resp, err // nor waiting past the caller's deadline
		}
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		l.stats.retries.Add(1)
		if err := l.sleepFn(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// once sends one attempt within the host's and the overall limits, and
// says when it went out. A request that would have to wait for its host's
// pause beyond deadline fails at once, rate limited.
func (l *limiter) once(req *http.Request, h *host, deadline time.Time, counted bool) (*http.Response, time.Time, error) {
	ctx := req.Context()
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, time.Time{}, ctx.Err()
	}
	defer func() { <-h.sem }()
	for {
		if err := h.waitPause(ctx, deadline, counted); err != nil {
			return nil, time.Time{}, err
		}
		r := h.pace.reserve(time.Now())
		if !r.OK() || r.Delay() == 0 {
			break
		}
		if err := sleep(ctx, r.Delay()); err != nil {
			r.Cancel()
			return nil, time.Time{}, err
		}
		// Paused while it waited its turn: its turn was at the old rate.
		if !h.pace.pausedUntil(counted).After(time.Now()) {
			break
		}
	}
	select {
	case l.global <- struct{}{}:
	case <-ctx.Done():
		return nil, time.Time{}, ctx.Err()
	}
	defer func() { <-l.global }()

	// Charged per attempt: retries and token exchanges cost requests too.
	if err := budgetFrom(ctx).take(); err != nil {
		return nil, time.Time{}, err
	}
	sentAt := time.Now()
	h.pace.sent(sentAt)
	l.stats.count(req)
	tctx, cancel := context.WithTimeout(ctx, h.timeout)
	out := req.WithContext(tctx)
	// ggcr speaks HTTP to loopback and private hosts. A host with a CA
	// bundle or client certificate speaks HTTPS; an insecure host is tried
	// with HTTPS (unverified) first and plain HTTP once that fails.
	plain := h.insecure && h.plainHTTP.Load()
	switch {
	case req.URL.Scheme == "http" && (h.forceTLS || h.insecure && !plain):
		out.URL = cloneURL(req, "https")
	case req.URL.Scheme == "https" && plain && !h.forceTLS:
		out.URL = cloneURL(req, "http")
	}
	resp, err := h.rt.RoundTrip(out)
	if err != nil && h.insecure && !h.forceTLS && out.URL.Scheme == "https" && !h.plainHTTP.Load() && ctx.Err() == nil && notTLS(err) {
		// An insecure host that does not speak TLS: plain HTTP from now on.
		h.plainHTTP.Store(true)
		out = out.Clone(tctx)
		out.URL = cloneURL(req, "http")
		l.stats.count(req)
		resp, err = h.rt.RoundTrip(out)
	}
	if err != nil {
		cancel()
		return nil, sentAt, err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		l.stats.rateLimited.Add(1)
	}
	now := time.Now()
	if q, ok := parseQuota(resp.Header); ok && counted {
		h.pace.quota(q, now)
	}
	if !throttle(resp) && resp.StatusCode < 500 {
		h.pace.answered(sentAt, now)
	}
	if err := l.limits.guardAnswer(req, resp); err != nil {
		cancel()
		return nil, sentAt, err
	}
	// The timeout covers the body too: it ends when the body is closed.
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	// ggcr resolves Link headers and checks schemes against the request
	// it made, not the one we rewrote.
	resp.Request = req
	return resp, sentAt, nil
}

func cloneURL(req *http.Request, scheme string) *url.URL {
	u := *req.URL
	u.Scheme = scheme
	return &u
}

// notTLS reports whether err says the server did not complete a TLS
// handshake (an HTTP answer to HTTPS, a refused or reset connection).
func notTLS(err error) bool {
	var rhe tls.RecordHeaderError
	return errors.As(err, &rhe) ||
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// waitPause waits while the host is paused, or fails at once when the
// pause lasts beyond deadline or ctx's: waiting for nothing helps no one,
// and a Retry-After of days must not hold a run until its --timeout.
func (h *host) waitPause(ctx context.Context, deadline time.Time, counted bool) error {
	until := h.pace.pausedUntil(counted)
	d := time.Until(until)
	if d <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	if until.After(deadline) {
		return &pausedError{host: h.name, wait: d}
	}
	return sleep(ctx, d)
}

// pausedError is a request not sent because its host asked to be left
// alone (Retry-After, a spent quota) for longer than the request may wait.
type pausedError struct {
	host string
	wait time.Duration
}

func (e *pausedError) Error() string {
	return fmt.Sprintf("%s asked to be left alone for %s more (Retry-After or a spent quota), longer than a request may wait",
		e.host, e.wait.Round(time.Second))
}

// retryAfter decides whether an attempt that ended with resp or err is
// worth another, and how long to wait first.
func (l *limiter) retryAfter(resp *http.Response, err error, attempt int) (time.Duration, bool) {
	backoff := l.backoff(attempt)
	if err != nil {
		return backoff, retryableError(err)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusRequestTimeout,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
	default:
		return 0, false
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		return d, true
	}
	return backoff, true
}

// backoff is the wait before attempt+1: base·factor^(attempt-1), at most
// max, of which the jitter fraction is random so that clients that failed
// together do not come back together.
func (l *limiter) backoff(attempt int) time.Duration {
	d := float64(l.retry.base) * math.Pow(l.retry.factor, float64(attempt-1))
	if m := float64(l.retry.max); m > 0 && d > m {
		d = m
	}
	j := math.Min(math.Max(l.retry.jitter, 0), 1)
	return time.Duration(d*(1-j) + d*j*rand.Float64())
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an
// HTTP-date, at most MaxRetryAfter. Anything else (a negative number, a
// fraction, a date that does not parse) is not a Retry-After at all.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) && strings.Trim(v, "0123456789") == "" {
		if err != nil || secs > uint64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), MaxRetryAfter), true
	}
	return 0, false
}

// retryableError reports whether a failed attempt may succeed if tried
// again: dropped connections and timeouts, not refused connections or
// unknown hosts, which fail again at once.
func retryableError(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
