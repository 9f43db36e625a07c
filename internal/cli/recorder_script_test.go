package cli

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// recordingRegistry is a registry of someone else's on 127.0.0.1: it
// demands basic auth of every request and keeps what it was sent.
type recordingRegistry struct {
	mu       sync.Mutex
	requests int
	seen     []string // Authorization headers, decoded where basic, and bodies
}

var recorders sync.Map // by $WORK

// cmdHostile serves a hostile registry for the script and sets $HOSTILE to
// its host:port (subst replaces it too).
//
//	hostile start
//	hostile received TEXT   some request carried TEXT in its credentials or body (! none did)
//	hostile requests N      it was asked N times
func cmdHostile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: hostile start|received TEXT|requests N")
	}
	work := ts.Getenv("WORK")
	switch args[0] {
	case "start":
		h := &recordingRegistry{}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			h.mu.Lock()
			h.requests++
			if a := r.Header.Get("Authorization"); a != "" {
				h.seen = append(h.seen, a)
				if _, cred, ok := strings.Cut(a, " "); ok {
					if b, err := base64.StdEncoding.DecodeString(cred); err == nil {
						h.seen = append(h.seen, string(b))
					}
				}
			}
			h.seen = append(h.seen, string(body))
			h.mu.Unlock()
			w.Header().Set("WWW-Authenticate", `Basic realm="hostile"`)
			w.WriteHeader(http.StatusUnauthorized)
		}))
		ts.Defer(srv.Close)
		recorders.Store(work, h)
		ts.Setenv("HOSTILE", strings.TrimPrefix(srv.URL, "http://"))
	case "received", "requests":
		v, ok := recorders.Load(work)
		if !ok || len(args) != 2 {
			ts.Fatalf("usage: hostile start, then hostile %s ARG", args[0])
		}
		h := v.(*recordingRegistry)
		h.mu.Lock()
		defer h.mu.Unlock()
		if args[0] == "requests" {
			n, err := strconv.Atoi(args[1])
			ts.Check(err)
			if (h.requests == n) == neg {
				ts.Fatalf("the hostile registry was asked %d times", h.requests)
			}
			return
		}
		got := false
		for _, s := range h.seen {
			got = got || strings.Contains(s, args[1])
		}
		if got == neg {
			ts.Fatalf("the hostile registry received %q: %v", args[1], got)
		}
	default:
		ts.Fatalf("hostile: unknown %q", args[0])
	}
}
