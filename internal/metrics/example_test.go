package metrics_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/git-laminar/git-laminar/internal/metrics"
)

func ExampleWriteTextfile() {
	dir, _ := os.MkdirTemp("", "metrics")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "laminar.prom")
	start := time.Unix(1772359200, 0)
	err := metrics.WriteTextfile(path, metrics.Run{
		Repository: "acme/manifests", Started: start, Finished: start.Add(2 * time.Second),
		Promotions: 1, Requests: map[string]int64{"tag_list": 2},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	data, _ := os.ReadFile(path)
	fmt.Print(string(data))
	// Output:
	// # HELP laminar_failures_total Image failures of every run recorded in this file.
	// # TYPE laminar_failures_total counter
	// laminar_failures_total{repository="acme/manifests"} 0
	// # HELP laminar_last_success_timestamp_seconds When a run last succeeded, in seconds since the epoch.
	// # TYPE laminar_last_success_timestamp_seconds gauge
	// laminar_last_success_timestamp_seconds{repository="acme/manifests"} 1.772359202e+09
	// # HELP laminar_promotions_total Promotions committed by every run recorded in this file.
	// # TYPE laminar_promotions_total counter
	// laminar_promotions_total{repository="acme/manifests"} 1
	// # HELP laminar_registry_requests HTTP requests the last run sent to registries, by kind.
	// # TYPE laminar_registry_requests gauge
	// laminar_registry_requests{kind="tag_list",repository="acme/manifests"} 2
	// # HELP laminar_run_duration_seconds Duration of the last run.
	// # TYPE laminar_run_duration_seconds gauge
	// laminar_run_duration_seconds{repository="acme/manifests"} 2
	// # HELP laminar_run_failures Images the last run could not handle.
	// # TYPE laminar_run_failures gauge
	// laminar_run_failures{repository="acme/manifests"} 0
	// # HELP laminar_run_promotions Promotions committed by the last run.
	// # TYPE laminar_run_promotions gauge
	// laminar_run_promotions{repository="acme/manifests"} 1
	// # HELP laminar_run_success 1 if the last run succeeded (no image failed, nothing else failed), else 0.
	// # TYPE laminar_run_success gauge
	// laminar_run_success{repository="acme/manifests"} 1
	// # HELP laminar_run_timestamp_seconds When the last run finished, in seconds since the epoch.
	// # TYPE laminar_run_timestamp_seconds gauge
	// laminar_run_timestamp_seconds{repository="acme/manifests"} 1.772359202e+09
}
