// Package server is `git laminar serve`: it keeps a fleet of manifests
// repositories promoted. Each repository has a clone under the state
// directory and a worker that runs its promotion on its interval, with
// jitter, or at once when the API or a registry webhook asks; never two
// at once for one repository, and at most the fleet's concurrency at once
// overall. The work itself is the Engine's (the use cases of run and
// set); this package schedules it, serves the HTTP API, the webhooks, the
// status page and the metrics.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/git-laminar/git-laminar/internal/fleet"
	"github.com/git-laminar/git-laminar/internal/printable"
)

// Hint is what a registry webhook says: a tag was pushed to an image. It
// is only ever a reason to ask the registry again.
type Hint struct {
	Image, Tag string
}

// WebhookParser checks a webhook request's signature against secret and
// reads the images it names.
type WebhookParser func(source string, r *http.Request, secret string) ([]Hint, error)

// Options configure a Server.
type Options struct {
	Fleet    *fleet.File
	Shard    fleet.Shard
	StateDir string
	Listen   string
	// Token is the bearer token of /v1/*; empty: no token, and the
	// server refuses to listen anywhere but on loopback.
	Token string
	// Secrets holds each webhook source's secret.
	Secrets map[string]string
	Engine  Engine
	Log     *slog.Logger
	// Webhook parses registry notifications; nil: internal/webhook.
	Webhook WebhookParser
	// Drain bounds how long work in progress may take after the context
	// ends (default 10 minutes); then it is cancelled.
	Drain time.Duration
	// Ready, when set, is called once the server listens.
	Ready func(addr net.Addr)
	// FirstDelay is the wait before each repository's first run; zero:
	// a random part of five seconds (or of the interval, when shorter),
	// so that a restart does not send every run at once.
	FirstDelay time.Duration
}

// Server is the service.
type Server struct {
	opt     Options
	log     *slog.Logger
	repos   []*repo
	byName  map[string]*repo
	sem     chan struct{}
	metrics *serverMetrics
	started time.Time

	mu       sync.Mutex
	draining bool
	cloned   int // repositories whose first clone attempt is over
	workCtx  context.Context
}

// repo is one repository of the fleet and what the service knows of it.
type repo struct {
	cfg    fleet.Repository
	target Target
	// busy is held while the engine works on the clone: one job at a time.
	busy sync.Mutex
	kick chan string // a pending run and its trigger; at most one waits

	wmu     sync.Mutex
	waiters []chan Outcome

	// Guarded by Server.mu.
	refs        []string
	refsKnown   bool
	last        *Outcome
	lastSuccess time.Time
	running     string // the trigger of the job in progress, if any
	next        time.Time
	status      RepoStatus
	statusErr   string
	cloneErr    string
	cloneTried  bool
}

// New checks the options and builds the server.
func New(opt Options) (*Server, error) {
	if opt.Fleet == nil || opt.Engine == nil {
		return nil, errors.New("server: a fleet and an engine are needed")
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Drain <= 0 {
		opt.Drain = 10 * time.Minute
	}
	if opt.Listen == "" {
		opt.Listen = DefaultListen
	}
	s := &Server{opt: opt, log: opt.Log, byName: map[string]*repo{}, metrics: newMetrics(), started: time.Now()}
	conc := opt.Fleet.Concurrency
	if conc < 1 {
		conc = fleet.DefaultConcurrency
	}
	s.sem = make(chan struct{}, conc)
	for _, r := range opt.Fleet.Select(opt.Shard) {
		dir, err := cloneDir(opt.StateDir, r.Name)
		if err != nil {
			return nil, err
		}
		rp := &repo{cfg: r, kick: make(chan string, 1), target: Target{
			Name: r.Name, Dir: dir, Config: r.Config, Branch: r.Branch, PullRequest: r.PullRequest,
			SSHKey: r.SSHKey, KnownHosts: r.KnownHosts,
		}}
		s.repos = append(s.repos, rp)
		s.byName[r.Name] = rp
	}
	s.metrics.repositories.Set(float64(len(s.repos)))
	return s, nil
}

// DefaultListen is where the service listens without --listen.
const DefaultListen = "127.0.0.1:8080"

// Run listens, schedules and serves until ctx ends; then it stops taking
// work, lets the jobs in progress finish (their pushes included) and
// returns nil.
func (s *Server) Run(ctx context.Context) error {
	if s.opt.Token == "" {
		if err := LoopbackOnly(s.opt.Listen); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", s.opt.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.opt.Listen, err)
	}
	if s.opt.Token == "" && !loopback(ln.Addr()) {
		ln.Close()
		return fmt.Errorf("listen %s: no API token (token_env in the fleet file): refusing to listen anywhere but on loopback", s.opt.Listen)
	}
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	s.mu.Lock()
	s.workCtx = workCtx
	s.mu.Unlock()

	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Minute, // a waited-for promotion takes as long as a run
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return workCtx },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.log.Info("listening", "address", ln.Addr().String(), "repositories", len(s.repos), "shard", s.opt.Shard.String(),
		"concurrency", cap(s.sem), "token", s.opt.Token != "")
	if s.opt.Ready != nil {
		s.opt.Ready(ln.Addr())
	}

	var wg sync.WaitGroup
	for _, r := range s.repos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.worker(ctx, workCtx, r)
		}()
	}

	select {
	case <-ctx.Done():
	case err := <-served:
		cancelWork()
		wg.Wait()
		return fmt.Errorf("serving: %w", err)
	}
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.log.Info("stopping: no new work; waiting for the jobs in progress")
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	timer := time.NewTimer(s.opt.Drain)
	select {
	case <-done:
	case <-timer.C:
		s.log.Warn("jobs still running after the drain time; cancelling them", "drain", s.opt.Drain.String())
		cancelWork()
		<-done
	}
	timer.Stop()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	cancelWork()
	s.log.Info("stopped")
	return nil
}

// LoopbackOnly refuses, before anything listens, an address that is not
// loopback: without a token, the API is open to whoever can connect.
func LoopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", addr, err)
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	if host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("--listen %s: without an API token (token_env in the fleet file) the service listens on loopback only, such as 127.0.0.1:8080", addr)
}

func loopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// jitter spreads runs over a tenth of the interval, so repositories with
// one interval do not all ask the registries in the same second.
func jitter(d time.Duration) time.Duration {
	j := d / 10
	if j <= 0 {
		return d
	}
	return d - j/2 + rand.N(j)
}

// worker runs r's jobs: on its interval, and at once when kicked.
func (s *Server) worker(ctx, workCtx context.Context, r *repo) {
	// The clone comes first, within the bound: readiness waits for it.
	if s.acquire(ctx) {
		r.busy.Lock()
		if err := s.clone(workCtx, r); err != nil {
			s.log.Error("clone failed", "repository", r.cfg.Name, "error", err.Error())
		}
		r.busy.Unlock()
		s.release()
	}
	first := s.opt.FirstDelay
	if first <= 0 {
		first = rand.N(min(r.cfg.Interval, 5*time.Second) + 1)
	}
	timer := time.NewTimer(first)
	defer timer.Stop()
	s.setNext(r, time.Now().Add(first))
	for {
		trigger := "clock"
		select {
		case <-ctx.Done():
			s.failWaiters(r, "the service is stopping")
			return
		case <-timer.C:
		case trigger = <-r.kick:
		}
		if ctx.Err() != nil {
			s.failWaiters(r, "the service is stopping")
			return
		}
		waiters := r.takeWaiters()
		o, ran := s.runJob(ctx, workCtx, r, trigger)
		if !ran {
			o = Outcome{Result: "failed", Error: "the service is stopping"}
		}
		for _, w := range waiters {
			w <- o
		}
		d := jitter(r.cfg.Interval)
		timer.Reset(d)
		s.setNext(r, time.Now().Add(d))
	}
}

func (s *Server) setNext(r *repo, t time.Time) {
	s.mu.Lock()
	r.next = t
	s.mu.Unlock()
}

func (r *repo) takeWaiters() []chan Outcome {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	w := r.waiters
	r.waiters = nil
	return w
}

func (s *Server) failWaiters(r *repo, msg string) {
	for _, w := range r.takeWaiters() {
		w <- Outcome{Result: "failed", Error: msg}
	}
}

// trigger asks for a run of r as soon as it is free; wait, when set,
// receives its outcome.
func (s *Server) trigger(r *repo, why string, wait chan Outcome) {
	if wait != nil {
		r.wmu.Lock()
		r.waiters = append(r.waiters, wait)
		r.wmu.Unlock()
	}
	select {
	case r.kick <- why:
	default: // a run is pending already; it serves this request too
	}
}

// acquire takes a place among the jobs running at once, unless ctx ends
// first (the service stops taking work).
func (s *Server) acquire(ctx context.Context) bool {
	select {
	case s.sem <- struct{}{}:
		if ctx.Err() != nil {
			<-s.sem
			return false
		}
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Server) release() { <-s.sem }

// runJob runs one promotion of r. ran is false when the service stopped
// before it could start.
func (s *Server) runJob(ctx, workCtx context.Context, r *repo, trigger string) (o Outcome, ran bool) {
	if !s.acquire(ctx) {
		return Outcome{}, false
	}
	defer s.release()
	r.busy.Lock()
	defer r.busy.Unlock()
	s.setRunning(r, trigger)
	defer s.setRunning(r, "")
	started := time.Now()
	o, err := s.runLocked(workCtx, r, trigger != "clock")
	o.Started, o.Finished, o.Trigger = started, time.Now(), trigger
	s.record(r, "run", trigger, o, err)
	if s.cloneOK(r) {
		s.refresh(workCtx, r)
	}
	return o, true
}

func (s *Server) runLocked(ctx context.Context, r *repo, refresh bool) (Outcome, error) {
	if err := s.clone(ctx, r); err != nil {
		return Outcome{Result: "failed", Error: err.Error()}, err
	}
	t := r.target
	t.Refresh = refresh
	o, err := s.opt.Engine.Run(ctx, t)
	if err != nil && o.Error == "" {
		o.Error = err.Error()
	}
	if err != nil {
		o.Result = "failed"
	}
	return o, err
}

// clone makes sure r's clone exists; the first attempt, made or not,
// counts toward readiness.
func (s *Server) clone(ctx context.Context, r *repo) error {
	_, err := ensureClone(ctx, s.opt.StateDir, r.cfg)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !r.cloneTried {
		r.cloneTried = true
		s.cloned++
	}
	if err != nil {
		r.cloneErr = err.Error()
		return err
	}
	r.cloneErr = ""
	return nil
}

func (s *Server) cloneOK(r *repo) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return r.cloneTried && r.cloneErr == ""
}

func (s *Server) setRunning(r *repo, trigger string) {
	s.mu.Lock()
	r.running = trigger
	s.mu.Unlock()
}

// refresh reads the images r's rules manage and its status, after a job.
func (s *Server) refresh(ctx context.Context, r *repo) {
	refs, err := s.opt.Engine.References(ctx, r.target)
	st, serr := s.opt.Engine.Status(ctx, r.target)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		r.refs, r.refsKnown = refs, true
	} else {
		s.log.Warn("reading the managed images failed", "repository", r.cfg.Name, "error", err.Error())
	}
	r.status = st
	r.statusErr = ""
	if serr != nil {
		r.statusErr = serr.Error()
	}
}

// record logs a job's outcome and counts it.
func (s *Server) record(r *repo, job, trigger string, o Outcome, err error) {
	attrs := []any{"repository", r.cfg.Name, "job", job, "trigger", trigger, "result", o.Result,
		"duration", o.Finished.Sub(o.Started).Round(time.Millisecond).String()}
	if o.Commit != "" {
		attrs = append(attrs, "commit", o.Commit, "pushed", o.Pushed)
	}
	for _, p := range o.Promotions {
		s.log.Info("promoted", "repository", r.cfg.Name, "image", printable.String(p.Image), "from", printable.String(p.From), "to", printable.String(p.To))
	}
	for _, f := range o.Failures {
		s.log.Warn("image failed", "repository", r.cfg.Name, "image", printable.String(f.Image), "error", printable.String(f.Error))
	}
	if err != nil {
		s.log.Error("job failed", append(attrs, "error", printable.String(err.Error()))...)
	} else {
		s.log.Info("job done", attrs...)
	}
	s.metrics.observe(r.cfg.Name, job, trigger, o)
	s.mu.Lock()
	defer s.mu.Unlock()
	oc := o
	r.last = &oc
	if o.Result == "promoted" || o.Result == "up-to-date" {
		r.lastSuccess = o.Finished
	}
}

// ready reports whether every repository had its first clone attempt.
func (s *Server) ready() (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return false, "stopping"
	}
	if s.cloned < len(s.repos) {
		return false, fmt.Sprintf("%d of %d repositories cloned", s.cloned, len(s.repos))
	}
	return true, "ready"
}
