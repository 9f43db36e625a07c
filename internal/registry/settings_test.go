package registry

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Which settings apply: the most specific prefix first, then the order
// given (user-level file before laminar.toml); credentials and paging per
// repository, TLS and limits per host.
func TestSettingsResolution(t *testing.T) {
	set := newSettingsSet([]Settings{
		{Prefix: "ghcr.io", Username: "user-file", PasswordEnv: "A", RPS: 5, Source: "user:1"},
		{Prefix: "ghcr.io/acme", PageSize: 50, Concurrency: 2, Source: "user:5"},
		{Prefix: "ghcr.io/acme/app", Username: "app", PasswordFile: "/f", MaxTags: 10, Source: "project:1"},
		{Prefix: "ghcr.io", RPS: 1, CAFile: "/ca.pem", Timeout: time.Second, Source: "project:9"},
		{Prefix: "docker.io/library", PageSize: 25},
		{Prefix: "bitnami", MaxTags: 7},
		{Prefix: "127.0.0.1:5000", Insecure: true},
		{Prefix: "harbor.example.com/team/app", PageSize: 20, Source: "project:12"},
		{Prefix: "harbor.example.com/team", API: APIHarbor, Source: "project:15"},
	})
	repoTests := []struct {
		host, path       string
		cred             string // Source of the credentials, "" for none
		pageSize, maxTag int
	}{
		{"ghcr.io", "acme/app", "project:1", 50, 10},
		{"ghcr.io", "acme/app2", "user:1", 50, 0},
		{"ghcr.io", "other/x", "user:1", 0, 0},
		{"GHCR.io", "acme/app/sub", "project:1", 50, 10},
		{"index.docker.io", "library/nginx", "", 25, 0},
		{"index.docker.io", "bitnami/redis", "", 0, 7},
		{"index.docker.io", "library/bitnami", "", 25, 7},
		{"quay.io", "acme/app", "", 0, 0},
	}
	for _, tt := range repoTests {
		rs := set.repo(tt.host, tt.path)
		cred := ""
		if rs.cred != nil {
			cred = rs.cred.Source
		}
		if cred != tt.cred || rs.pageSize != tt.pageSize || rs.maxTags != tt.maxTag {
			t.Errorf("%s/%s: cred %q page %d max %d; want %q %d %d", tt.host, tt.path, cred, rs.pageSize, rs.maxTags, tt.cred, tt.pageSize, tt.maxTag)
		}
	}
	hostTests := []struct {
		host string
		want hostSettings
	}{
		{"ghcr.io", hostSettings{caFile: "/ca.pem", rps: 5, concurrency: 2, timeout: time.Second, source: "project:9"}},
		{"index.docker.io", hostSettings{}},
		{"127.0.0.1:5000", hostSettings{insecure: true}},
		{"127.0.0.1:5001", hostSettings{}},
		// A per-host key: the entry's path does not matter.
		{"harbor.example.com", hostSettings{api: APIHarbor, apiSource: "project:15"}},
	}
	for _, tt := range hostTests {
		if diff := cmp.Diff(tt.want, set.host(tt.host), cmp.AllowUnexported(hostSettings{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.host, diff)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"Fri, 02 Jan 2026 03:04:15 GMT", 10 * time.Second, true},
		{"Fri, 02 Jan 2026 03:00:00 GMT", 0, true},
		{"soon", 0, false},
		{"", 0, false},
		// Capped: a registry asking for days gets MaxRetryAfter.
		{"999999999", MaxRetryAfter, true},
		{"99999999999999999999999999", MaxRetryAfter, true},
		{"60", time.Minute, true},
		{"Sat, 02 Jan 2027 03:04:05 GMT", MaxRetryAfter, true},
		// Garbage is no Retry-After: the backoff applies.
		{"1.5", 0, false},
		{"+3", 0, false},
		{"3 seconds", 0, false},
		{"-99999999999999999999999", 0, false},
		{"Fri, 32 Jan 2026 03:04:15 GMT", 0, false},
	} {
		if got, ok := parseRetryAfter(tt.in, now); got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRedact(t *testing.T) {
	k := newWatchedKeychain(nil)
	for _, tt := range []struct{ in, want string }{
		{"header Bearer abcdefghijklmnop.qrs", "header Bearer [redacted]"},
		{"header bearer\tabcdefghijklmnop.qrs", "header bearer [redacted]"},
		{"Basic cm9ib3Q6cGFzc3dvcmQ=", "Basic [redacted]"},
		{"use Basic authentication", "use Basic authentication"},
		{`{"token": "abc", "access_token":"def"}`, `{"token": "[redacted]", "access_token":"[redacted]"}`},
		{"Bearer realm", "Bearer realm"},
	} {
		if got := k.redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
