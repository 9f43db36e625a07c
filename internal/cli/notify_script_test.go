package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// webhookSecretPath is the part of $WEBHOOK that stands for a webhook's
// secret (Slack's /services/... path): it must never be printed.
const webhookSecretPath = "/services/T0/B0/SECRETxSECRET"

// cmdWebhook serves a webhook on 127.0.0.1 for the script and sets
// $WEBHOOK to its URL. Each request's body is written to
// $WORK/webhook-N.json (N from 1). STATUS answers the first requests with
// those statuses (then 200).
//
//	webhook start [STATUS...]
func cmdWebhook(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || args[0] != "start" {
		ts.Fatalf("usage: webhook start [STATUS...]")
	}
	var statuses []int
	for _, a := range args[1:] {
		n, err := strconv.Atoi(a)
		ts.Check(err)
		statuses = append(statuses, n)
	}
	work := ts.Getenv("WORK")
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path != webhookSecretPath || r.Method != http.MethodPost {
			http.Error(w, "wrong request", http.StatusNotFound)
			return
		}
		n++
		os.WriteFile(filepath.Join(work, fmt.Sprintf("webhook-%d.json", n)), append(body, '\n'), 0o644)
		if len(statuses) > 0 {
			code := statuses[0]
			statuses = statuses[1:]
			w.Header().Set("Retry-After", "0")
			http.Error(w, "failing on purpose", code)
			return
		}
		io.WriteString(w, "ok")
	}))
	ts.Defer(srv.Close)
	ts.Setenv("WEBHOOK", srv.URL+webhookSecretPath)
}
