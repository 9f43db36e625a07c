package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/git-laminar/git-laminar/internal/fleet"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/git-laminar/git-laminar/internal/webhook"
)

// Body limits: API requests are a few hundred bytes; registry
// notifications batch events but stay far below a megabyte.
const (
	maxAPIBody     = 64 << 10
	maxWebhookBody = 1 << 20
)

// Handler is the service's HTTP API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeText(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ok, why := s.ready()
		code := http.StatusOK
		if !ok {
			code = http.StatusServiceUnavailable
		}
		writeText(w, code, why+"\n")
	})
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /{$}", s.statusPage)
	mux.HandleFunc("GET /v1/status", s.api(s.statusJSON))
	mux.HandleFunc("POST /v1/sync", s.api(s.sync))
	mux.HandleFunc("POST /v1/promote", s.api(s.promote))
	mux.HandleFunc("POST /webhooks/{source}", s.webhook)
	return s.guard(mux)
}

// guard applies to every request: without a token the server listens on
// loopback only, and then refuses a Host that is not loopback (a DNS
// rebinding page in a browser) and a cross-site Origin (a page posting
// to 127.0.0.1).
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		if s.opt.Token == "" {
			if !loopbackHost(r.Host) {
				writeError(w, http.StatusMisdirectedRequest, "this service answers on loopback names only (set token_env to serve elsewhere)")
				return
			}
			if o := r.Header.Get("Origin"); o != "" && r.Method != http.MethodGet {
				if u, err := url.Parse(o); err != nil || u.Host != r.Host {
					writeError(w, http.StatusForbidden, "cross-origin request refused")
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// api wraps a /v1/* handler: the bearer token, compared in constant time.
func (s *Server) api(h http.HandlerFunc) http.HandlerFunc {
	want := sha256.Sum256([]byte(s.opt.Token))
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opt.Token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			// Hashes of equal length: the comparison's time says nothing
			// of the token's length either.
			sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
			if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="git-laminar"`)
				writeError(w, http.StatusUnauthorized, "a valid bearer token is needed")
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
		h(w, r)
	}
}

func writeText(w http.ResponseWriter, code int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprint(w, text)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": printable.String(msg)})
}

func (s *Server) stopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

// repoResult is one repository's answer to /v1/sync and /v1/promote.
type repoResult struct {
	Repository string   `json:"repository"`
	Outcome    *Outcome `json:"outcome,omitempty"`
	Queued     bool     `json:"queued,omitempty"`
}

// sync runs every repository (or ?repository=NAME) now. With ?wait=true
// it answers once the runs are over, with their outcomes.
func (s *Server) sync(w http.ResponseWriter, r *http.Request) {
	targets := s.repos
	if name := r.URL.Query().Get("repository"); name != "" {
		rp, ok := s.byName[name]
		if !ok {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no repository %q in this service (shard %s)", name, s.opt.Shard))
			return
		}
		targets = []*repo{rp}
	}
	if s.stopping() {
		writeError(w, http.StatusServiceUnavailable, "the service is stopping")
		return
	}
	wait := r.URL.Query().Get("wait") == "true"
	results := make([]repoResult, len(targets))
	chans := make([]chan Outcome, len(targets))
	for i, rp := range targets {
		results[i] = repoResult{Repository: rp.cfg.Name, Queued: true}
		if wait {
			chans[i] = make(chan Outcome, 1)
		}
		s.trigger(rp, "api", chans[i])
	}
	if !wait {
		writeJSON(w, http.StatusAccepted, map[string]any{"repositories": results})
		return
	}
	code := http.StatusOK
	for i, c := range chans {
		select {
		case o := <-c:
			results[i].Outcome, results[i].Queued = &o, false
			if o.Result == "failed" {
				code = http.StatusBadGateway
			}
		case <-r.Context().Done():
			return
		}
	}
	writeJSON(w, code, map[string]any{"repositories": results})
}

var (
	tagRE    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
	commitRE = regexp.MustCompile(`^[0-9a-fA-F]{7,64}$`)
	imageRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._:/-]{0,254}$`)
)

// promote sets image:tag in every repository that manages the image.
func (s *Server) promote(w http.ResponseWriter, r *http.Request) {
	if s.stopping() {
		writeError(w, http.StatusServiceUnavailable, "the service is stopping")
		return
	}
	var req PromoteRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d bytes", maxAPIBody))
			return
		}
		writeError(w, http.StatusBadRequest, "the body is not {\"image\": ..., \"tag\": ...}: "+err.Error())
		return
	}
	switch {
	case !imageRE.MatchString(req.Image) || strings.Contains(req.Image, ".."):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("image %q is not an image name", req.Image))
		return
	case (req.Tag == "") == (req.Commit == ""):
		writeError(w, http.StatusBadRequest, "give either tag or commit")
		return
	case req.Tag != "" && !tagRE.MatchString(req.Tag):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("tag %q is not a valid tag", req.Tag))
		return
	case req.Commit != "" && !commitRE.MatchString(req.Commit):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("commit %q is not 7 to 64 hexadecimal digits", req.Commit))
		return
	}
	ctx := r.Context()
	targets, err := s.managing(ctx, req.Image)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	if len(targets) == 0 {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no repository of this service manages %s", req.Image))
		return
	}
	results := make([]repoResult, len(targets))
	var wg sync.WaitGroup
	for i, rp := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := s.promoteOne(ctx, rp, req)
			results[i] = repoResult{Repository: rp.cfg.Name, Outcome: &o}
		}()
	}
	wg.Wait()
	code := http.StatusOK
	for _, res := range results {
		if res.Outcome.Result == "failed" {
			code = http.StatusBadGateway
		}
	}
	writeJSON(w, code, map[string]any{"repositories": results})
}

// promoteOne runs a promotion in r, as a job among the others.
func (s *Server) promoteOne(ctx context.Context, r *repo, req PromoteRequest) Outcome {
	s.mu.Lock()
	workCtx := s.workCtx
	s.mu.Unlock()
	if workCtx == nil {
		workCtx = context.WithoutCancel(ctx)
	}
	if !s.acquire(ctx) {
		return Outcome{Result: "failed", Error: "cancelled before it started"}
	}
	defer s.release()
	r.busy.Lock()
	defer r.busy.Unlock()
	s.setRunning(r, "api")
	defer s.setRunning(r, "")
	started := time.Now()
	var o Outcome
	var err error
	// The promotion, once started, is not cut short by the client going
	// away: its push completes or fails on its own.
	if err = s.clone(workCtx, r); err == nil {
		o, err = s.opt.Engine.Promote(workCtx, r.target, req)
	}
	if err != nil {
		o.Result = "failed"
		if o.Error == "" {
			o.Error = err.Error()
		}
	}
	o.Started, o.Finished, o.Trigger = started, time.Now(), "api"
	s.record(r, "promote", "api", o, err)
	if s.cloneOK(r) {
		s.refresh(workCtx, r)
	}
	return o
}

// managing returns the repositories whose rules manage image. A
// repository whose images are not known yet (no job has run) is asked.
func (s *Server) managing(ctx context.Context, image string) ([]*repo, error) {
	var out []*repo
	var errs []error
	for _, rp := range s.repos {
		s.mu.Lock()
		refs, known := rp.refs, rp.refsKnown
		s.mu.Unlock()
		if !known {
			rp.busy.Lock()
			err := s.clone(ctx, rp)
			if err == nil {
				refs, err = s.opt.Engine.References(ctx, rp.target)
			}
			rp.busy.Unlock()
			if err != nil {
				// One repository whose laminar.toml cannot be read does
				// not hold back the others; it is said when none is left.
				s.log.Warn("reading the managed images failed", "repository", rp.cfg.Name, "error", err.Error())
				errs = append(errs, fmt.Errorf("%s: %v", rp.cfg.Name, err))
				continue
			}
			s.mu.Lock()
			rp.refs, rp.refsKnown = refs, true
			s.mu.Unlock()
		}
		if slices.ContainsFunc(refs, func(ref string) bool { return sameImage(ref, image) }) {
			out = append(out, rp)
		}
	}
	if len(out) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// sameImage reports whether name, as a person or a registry's webhook
// writes it, is the canonical image ref: the same, or a trailing part of
// it at a path boundary ("app", "acme/app") when name has no registry host.
func sameImage(ref, name string) bool {
	if ref == name {
		return true
	}
	first, _, _ := strings.Cut(name, "/")
	if strings.ContainsAny(first, ".:") || first == "localhost" {
		return false
	}
	return strings.HasSuffix(ref, "/"+name)
}

// webhook takes a registry's notification: only a hint to ask again. The
// repositories that reference a named image (or whose images are not known
// yet) run at once; the registry is asked as on any run.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	source := r.PathValue("source")
	if !slices.Contains(fleet.Sources, source) {
		writeError(w, http.StatusNotFound, "no such webhook source")
		return
	}
	secret, ok := s.opt.Secrets[source]
	if !ok {
		s.metrics.webhooks.WithLabelValues(source, "refused").Inc()
		writeError(w, http.StatusNotFound, fmt.Sprintf("webhooks from %s are not configured ([webhooks.%s] in the fleet file)", source, source))
		return
	}
	if s.stopping() {
		writeError(w, http.StatusServiceUnavailable, "the service is stopping")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxWebhookBody)
	parse := s.opt.Webhook
	if parse == nil {
		parse = parseWebhook
	}
	hints, err := parse(source, r, secret)
	if err != nil {
		var mbe *http.MaxBytesError
		var we *webhook.Error
		code := http.StatusBadRequest
		switch {
		case errors.As(err, &we):
			code = webhook.Status(err)
		case errors.As(err, &mbe):
			code = http.StatusRequestEntityTooLarge
		case errors.Is(err, ErrSignature):
			code = http.StatusUnauthorized
		}
		s.metrics.webhooks.WithLabelValues(source, "invalid").Inc()
		s.log.Warn("webhook refused", "source", source, "error", printable.String(err.Error()))
		writeError(w, code, err.Error())
		return
	}
	s.metrics.webhooks.WithLabelValues(source, "accepted").Inc()
	var names []string
	for _, rp := range s.repos {
		s.mu.Lock()
		refs, known := rp.refs, rp.refsKnown
		s.mu.Unlock()
		hit := !known
		for _, h := range hints {
			if slices.ContainsFunc(refs, func(ref string) bool { return sameImage(ref, h.Image) }) {
				hit = true
			}
		}
		if hit && len(hints) > 0 {
			names = append(names, rp.cfg.Name)
			s.trigger(rp, "webhook", nil)
		}
	}
	images := make([]string, 0, len(hints))
	for _, h := range hints {
		images = append(images, printable.String(h.Image))
	}
	s.log.Info("webhook", "source", source, "images", strings.Join(images, ","), "repositories", strings.Join(names, ","))
	if names == nil {
		names = []string{}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"repositories": names})
}

// parseWebhook reads a notification with internal/webhook.
func parseWebhook(source string, r *http.Request, secret string) ([]Hint, error) {
	hs, err := webhook.Parse(source, r, secret)
	if err != nil {
		return nil, err
	}
	out := make([]Hint, 0, len(hs))
	for _, h := range hs {
		out = append(out, Hint{Image: h.Image, Tag: h.Tag})
	}
	return out, nil
}

// ErrSignature is wrapped by a WebhookParser when the request's
// signature or secret does not match.
var ErrSignature = errors.New("signature does not match")
