package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

func TestSyncPromotesAndCounts(t *testing.T) {
	r := newRig(t, registrytest.ServerOptions{})
	r.push("app", "1.0.0", "1.1.0")
	r.push("api", "1.0.0")
	appRemote := r.repository("shop", "app", "1.0.0", "")
	apiRemote := r.repository("billing", "api", "1.0.0", "")
	base, _ := r.serve(Options{Fleet: r.fleetFile("")})

	if code, body := do(t, "GET", base+"/healthz", "", ""); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	code, body := do(t, "POST", base+"/v1/sync?wait=true", "", "")
	if code != http.StatusOK {
		t.Fatalf("/v1/sync: %d %s", code, body)
	}
	var res struct {
		Repositories []repoResult `json:"repositories"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || len(res.Repositories) != 2 {
		t.Fatalf("/v1/sync answered %s (%v)", body, err)
	}
	want := r.reg.Host() + "/acme/app 1.0.0 -> 1.1.0"
	if got := r.trailers(appRemote); got != want {
		t.Errorf("shop's remote: trailer %q, want %q", got, want)
	}
	if got := r.commits(apiRemote); got != "1" {
		t.Errorf("billing's remote has %s commits; nothing was to be promoted", got)
	}
	if code, body := do(t, "GET", base+"/readyz", "", ""); code != 200 {
		t.Errorf("/readyz: %d %s", code, body)
	}
	_, metrics := do(t, "GET", base+"/metrics", "", "")
	for _, line := range []string{
		`laminar_promotions_total{repository="shop"} 1`,
		`laminar_promotions_total{repository="billing"} 0`,
		`laminar_runs_total{job="run",repository="shop",result="promoted",trigger="api"} 1`,
		`laminar_runs_total{job="run",repository="billing",result="up-to-date",trigger="api"} 1`,
		`laminar_registry_requests_total{host="` + r.reg.Host() + `",kind="tag_list"}`,
		`laminar_last_success_timestamp_seconds{repository="shop"}`,
	} {
		if !strings.Contains(metrics, line) {
			t.Errorf("/metrics lacks %s\n%s", line, metrics)
		}
	}
	for _, l := range strings.Split(metrics, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "laminar_") {
			t.Errorf("metric not named laminar_*: %s", l)
		}
	}
}
