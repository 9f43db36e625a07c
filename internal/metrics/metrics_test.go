package metrics

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

func value(t *testing.T, families map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	t.Helper()
	mf := families[name]
	if mf == nil {
		return 0, false
	}
outer:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			if labelValue(m, labels[i]) != labels[i+1] {
				continue outer
			}
		}
		switch {
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

func TestWriteAndCarryOver(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "laminar.prom")
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	repo := "git@example.com:acme/manifests.git"

	// A successful run.
	first := Run{Repository: repo, Started: t0, Finished: t0.Add(1500 * time.Millisecond), Promotions: 2,
		Requests: map[string]int64{"tag_list": 3, "manifest_head": 2}}
	if err := WriteTextfile(path, first); err != nil {
		t.Fatal(err)
	}
	fams, err := readTextfile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{NameRunPromotions, nil, 2},
		{NameRunFailures, nil, 0},
		{NameRunSuccess, nil, 1},
		{NameRunDuration, nil, 1.5},
		{NameRunTimestamp, nil, float64(t0.Unix()) + 1.5},
		{NameLastSuccess, nil, float64(t0.Unix()) + 1.5},
		{NamePromotionsTotal, nil, 2},
		{NameFailuresTotal, nil, 0},
		{NameRegistryRequests, []string{"kind", "tag_list"}, 3},
		{NameRegistryRequests, []string{"kind", "manifest_head"}, 2},
	} {
		got, ok := value(t, fams, c.name, append([]string{"repository", repo}, c.labels...)...)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if fams[NamePromotionsTotal].GetType() != dto.MetricType_COUNTER || fams[NameRunPromotions].GetType() != dto.MetricType_GAUGE {
		t.Error("totals must be counters and per-run values gauges")
	}

	// A failed run an hour later keeps the last success and adds to the totals.
	t1 := t0.Add(time.Hour)
	second := Run{Repository: repo, Started: t1, Finished: t1.Add(time.Second), Promotions: 0, Failures: 1}
	if err := WriteTextfile(path, second); err != nil {
		t.Fatal(err)
	}
	fams, err = readTextfile(path)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, want float64) {
		t.Helper()
		if got, ok := value(t, fams, name, "repository", repo); !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	check(NameRunSuccess, 0)
	check(NameRunFailures, 1)
	check(NameRunPromotions, 0)
	check(NameLastSuccess, float64(t0.Unix())+1.5)
	check(NameRunTimestamp, float64(t1.Unix())+1)
	check(NamePromotionsTotal, 2)
	check(NameFailuresTotal, 1)
	if _, ok := fams[NameRegistryRequests]; ok {
		t.Error("registry requests written for a run that reported none")
	}

	// A run that failed as a whole also keeps it; a success moves it.
	third := Run{Repository: repo, Started: t1.Add(time.Hour), Finished: t1.Add(time.Hour), Failed: true}
	if err := WriteTextfile(path, third); err != nil {
		t.Fatal(err)
	}
	fams, _ = readTextfile(path)
	check(NameLastSuccess, float64(t0.Unix())+1.5)
	t2 := t1.Add(2 * time.Hour)
	if err := WriteTextfile(path, Run{Repository: repo, Started: t2, Finished: t2, Promotions: 1}); err != nil {
		t.Fatal(err)
	}
	fams, _ = readTextfile(path)
	check(NameLastSuccess, float64(t2.Unix()))
	check(NamePromotionsTotal, 3)

	// Only the file is left in the directory: no temporary files.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only laminar.prom", len(entries))
	}
}

func TestNeverSucceeded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "laminar.prom")
	if err := WriteTextfile(path, Run{Repository: "r", Failed: true, Finished: time.Now()}); err != nil {
		t.Fatal(err)
	}
	fams, err := readTextfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fams[NameLastSuccess]; ok {
		t.Error("last success written though no run ever succeeded")
	}
}

func TestOtherRepositoryAndGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "laminar.prom")
	// Another repository's values are not carried over; a garbled file is
	// replaced without complaint.
	old := "# TYPE laminar_last_success_timestamp_seconds gauge\nlaminar_last_success_timestamp_seconds{repository=\"other\"} 42\n" +
		"# TYPE laminar_promotions_total counter\nlaminar_promotions_total{repository=\"other\"} 7\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteTextfile(path, Run{Repository: "mine", Failures: 1}); err != nil {
		t.Fatal(err)
	}
	fams, _ := readTextfile(path)
	if _, ok := fams[NameLastSuccess]; ok {
		t.Error("carried over another repository's last success")
	}
	if got, _ := value(t, fams, NamePromotionsTotal); got != 0 {
		t.Errorf("promotions total %v, want 0", got)
	}
	if err := os.WriteFile(path, []byte("not { metrics\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteTextfile(path, Run{Repository: "mine"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `laminar_run_success{repository="mine"} 1`) {
		t.Errorf("file:\n%s", data)
	}
}

func TestUnwritableDirectory(t *testing.T) {
	err := WriteTextfile(filepath.Join(t.TempDir(), "missing", "laminar.prom"), Run{Repository: "r"})
	if err == nil || !strings.Contains(err.Error(), "metrics: writing") {
		t.Errorf("error %v", err)
	}
}

// readTextfile parses the metrics file at path.
func readTextfile(path string) (map[string]*dto.MetricFamily, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("metrics: %s does not exist", filepath.Base(path))
		}
		return nil, err
	}
	defer f.Close()
	return Parse(f)
}

func TestPullRequests(t *testing.T) {
	path := filepath.Join(t.TempDir(), "laminar.prom")
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	url := `https://gitlab.example.com/acme/deploy/-/merge_requests/4?x="1"`
	run := Run{Repository: "r", Started: t0, Finished: t0.Add(time.Second), Promotions: 1,
		PullRequests: []PullRequest{{Action: "opened", URL: url}, {Action: "closed", URL: "https://gitlab.example.com/acme/deploy/-/merge_requests/2"}}}
	if err := WriteTextfile(path, run); err != nil {
		t.Fatal(err)
	}
	fams, err := readTextfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := value(t, fams, NameRunPullRequests, labelAction, "opened", labelURL, url); !ok || v != 1 {
		t.Errorf("opened request: %v, %v", v, ok)
	}
	if v, ok := value(t, fams, NameRunPullRequests, labelAction, "closed"); !ok || v != 1 {
		t.Errorf("closed request: %v, %v", v, ok)
	}
	// A run without requests writes no such metric.
	if err := WriteTextfile(path, Run{Repository: "r", Started: t0, Finished: t0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if fams, err = readTextfile(path); err != nil {
		t.Fatal(err)
	}
	if _, ok := value(t, fams, NameRunPullRequests); ok {
		t.Errorf("%s written for a run without requests", NameRunPullRequests)
	}
}
