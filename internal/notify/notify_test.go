package notify

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const secretPath = "/services/T000/B000/XXXXsecretXXXX"

func sample() Summary {
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	return Summary{
		Repository: "git@github.com:acme/manifests.git",
		Branch:     "main",
		Commit:     "0123456789abcdef0123456789abcdef01234567",
		Pushed:     true,
		Promotions: []Promotion{
			{Image: "registry.example.com/acme/app", From: "1.4.0", To: "1.5.0", Digest: "sha256:aa", Rule: "prod", Files: []string{"prod/app.yaml"}},
		},
		Failures: []Failure{{Image: "registry.example.com/acme/db", Error: "listing tags: 503 <Service Unavailable>"}},
		Started:  start,
		Finished: start.Add(2500 * time.Millisecond),
	}
}

type recorder struct {
	mu     sync.Mutex
	bodies [][]byte
	ctype  []string
	status []int // answers to give, in order; then 200
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != secretPath {
		http.Error(w, "wrong request "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
		return
	}
	rec.bodies = append(rec.bodies, body)
	rec.ctype = append(rec.ctype, r.Header.Get("Content-Type"))
	if len(rec.status) > 0 {
		code := rec.status[0]
		rec.status = rec.status[1:]
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		// Some servers echo the request line; it must not reach the error.
		http.Error(w, "no_service for "+r.URL.Path, code)
		return
	}
	io.WriteString(w, "ok")
}

func fastRetries(t *testing.T) {
	old := backoff
	backoff = []time.Duration{time.Millisecond, time.Millisecond}
	t.Cleanup(func() { backoff = old })
}

func TestSendSlack(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	if err := Send(context.Background(), Config{URL: srv.URL + secretPath, Format: "slack"}, sample()); err != nil {
		t.Fatal(err)
	}
	if len(rec.bodies) != 1 {
		t.Fatalf("%d requests, want 1", len(rec.bodies))
	}
	if rec.ctype[0] != "application/json" {
		t.Errorf("Content-Type %q", rec.ctype[0])
	}
	var got map[string]string
	if err := json.Unmarshal(rec.bodies[0], &got); err != nil {
		t.Fatal(err)
	}
	want := "*git laminar* promoted 1 image in `acme/manifests` on `main` (commit `0123456`, pushed)\n" +
		"• `registry.example.com/acme/app` `1.4.0` → `1.5.0`\n" +
		":warning: 1 image failed:\n" +
		"• `registry.example.com/acme/db`: listing tags: 503 &lt;Service Unavailable&gt;"
	if diff := cmp.Diff(map[string]string{"text": want}, got); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
}

func TestSendJSON(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	if err := Send(context.Background(), Config{URL: srv.URL + secretPath, Format: "json"}, sample()); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.bodies[0], &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"version": 1.0, "event": "laminar.run", "status": "partial",
		"repository": "git@github.com:acme/manifests.git", "branch": "main",
		"commit": "0123456789abcdef0123456789abcdef01234567", "pushed": true,
		"started": "2026-03-01T10:00:00Z", "finished": "2026-03-01T10:00:02Z", "duration_seconds": 2.5,
		"promotions": []any{map[string]any{
			"image": "registry.example.com/acme/app", "from": "1.4.0", "to": "1.5.0",
			"digest": "sha256:aa", "rule": "prod", "files": []any{"prod/app.yaml"},
		}},
		"failures": []any{map[string]any{"image": "registry.example.com/acme/db", "error": "listing tags: 503 <Service Unavailable>"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
}

func TestRunFailureMessage(t *testing.T) {
	s := Summary{Repository: "/srv/manifests", Error: "exec action \"make\" failed", Promotions: sample().Promotions}
	text := SlackText(s)
	if !strings.Contains(text, ":x: exec action \"make\" failed") || !strings.Contains(text, "not committed") {
		t.Errorf("text:\n%s", text)
	}
	if got := NewPayload(s).Status; got != "failed" {
		t.Errorf("status %q", got)
	}
}

func TestNothingToSay(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	s := Summary{Repository: "r", Started: time.Now(), Finished: time.Now()}
	if err := Send(context.Background(), Config{URL: srv.URL + secretPath}, s); err != nil {
		t.Fatal(err)
	}
	if len(rec.bodies) != 0 {
		t.Errorf("sent %d requests for a run that did nothing", len(rec.bodies))
	}
}

func TestRetries(t *testing.T) {
	fastRetries(t)
	rec := &recorder{status: []int{503, 429}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	if err := Send(context.Background(), Config{URL: srv.URL + secretPath}, sample()); err != nil {
		t.Fatal(err)
	}
	if len(rec.bodies) != 3 {
		t.Errorf("%d attempts, want 3", len(rec.bodies))
	}
}

func TestErrorsHideTheSecret(t *testing.T) {
	fastRetries(t)
	for _, tc := range []struct {
		name   string
		status []int
		want   string
		tries  int
	}{
		{"client error is final", []int{404}, "the webhook answered 404 Not Found: no_service for (redacted)", 1},
		{"server errors are retried", []int{500, 502, 503}, "answered 503", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{status: tc.status}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			err := Send(context.Background(), Config{URL: srv.URL + secretPath + "?token=hunter2"}, sample())
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "secret") || strings.Contains(msg, "hunter2") || strings.Contains(msg, "/services") {
				t.Errorf("error reveals the URL: %s", msg)
			}
			if !strings.HasPrefix(msg, "notify "+srv.URL+": ") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want %q naming %s", msg, tc.want, srv.URL)
			}
			if len(rec.bodies) != tc.tries {
				t.Errorf("%d attempts, want %d", len(rec.bodies), tc.tries)
			}
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		err = Send(context.Background(), Config{URL: "http://user:pw@" + addr + secretPath}, sample())
		if err == nil {
			t.Fatal("no error")
		}
		if msg := err.Error(); strings.Contains(msg, "secret") || strings.Contains(msg, "pw@") || !strings.Contains(msg, "http://"+addr) {
			t.Errorf("error %q", msg)
		}
	})
}

func TestRedirectNotFollowed(t *testing.T) {
	rec := &recorder{}
	target := httptest.NewServer(rec)
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+secretPath, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	err := Send(context.Background(), Config{URL: srv.URL + "/hook"}, sample())
	if err == nil || !strings.Contains(err.Error(), "307") {
		t.Errorf("error %v, want the redirect refused", err)
	}
	if len(rec.bodies) != 0 {
		t.Error("the redirect was followed")
	}
}

func TestBadConfig(t *testing.T) {
	if err := Send(context.Background(), Config{URL: "http://127.0.0.1/x", Format: "xml"}, sample()); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("bad format: %v", err)
	}
	if err := Send(context.Background(), Config{URL: "ftp://example/secret"}, sample()); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("bad scheme: %v", err)
	}
}

func TestShortRepo(t *testing.T) {
	for in, want := range map[string]string{
		"git@github.com:acme/manifests.git":    "acme/manifests",
		"https://github.com/acme/manifests":    "acme/manifests",
		"https://gitlab.example.com/a/b/c.git": "b/c",
		"/srv/git/manifests":                   "manifests",
		"manifests":                            "manifests",
	} {
		if got := shortRepo(in); got != want {
			t.Errorf("shortRepo(%q) = %q, want %q", in, got, want)
		}
	}
}

// What others wrote (a registry's error, a branch name) keeps to its line
// in the Slack message and holds no control or formatting character.
func TestSlackTextEscapesValues(t *testing.T) {
	s := sample()
	s.Branch = "main\u202e"
	s.Failures = []Failure{{Image: "registry.example.com/acme/db", Error: "denied\x1b[2J\x07\r\n• `evil` `1` → `2` <!channel>"}}
	text := SlackText(s)
	if strings.ContainsAny(text, "\x1b\x07\r\u202e") {
		t.Errorf("raw control characters in %q", text)
	}
	if lines := strings.Split(text, "\n"); len(lines) != 4 {
		t.Errorf("want 4 lines (headline, promotion, failure heading, failure), got %d:\n%s", len(lines), text)
	}
	if !strings.Contains(text, `denied\x1b[2J\x07\r\n`) || strings.Contains(text, "<!channel>") {
		t.Errorf("failure not escaped: %q", text)
	}
}

// The json payload keeps exact values, with formatting characters such as
// U+202E written as escapes.
func TestJSONPayloadEscapesFormatting(t *testing.T) {
	s := sample()
	s.Failures = []Failure{{Image: "registry.example.com/acme/db", Error: "denied\x1b[2J\u202e\u0085"}}
	body, err := Render("json", s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(string(body), "\x1b\u202e\u0085") {
		t.Errorf("raw control characters in %s", body)
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Failures[0].Error != s.Failures[0].Error {
		t.Errorf("error decodes to %q, want %q", p.Failures[0].Error, s.Failures[0].Error)
	}
}

// In pull request mode the message says which request carries the
// promotions, with its URL, and never that they were pushed.
func TestPullRequestSummary(t *testing.T) {
	s := sample()
	s.Pushed = false
	s.PullRequests = []PullRequest{{Action: "opened", Number: 7, URL: "https://github.com/acme/manifests/pull/7?a=1&b=<2>", Branch: "laminar/prod"}}
	text := SlackText(s)
	for _, want := range []string{"(commit `0123456`, pull request opened)", "Pull request opened: https://github.com/acme/manifests/pull/7?a=1&amp;b=&lt;2&gt;\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "pushed") {
		t.Errorf("text says pushed:\n%s", text)
	}
	s.PullRequests = append(s.PullRequests, PullRequest{Action: "closed", URL: "https://github.com/acme/manifests/pull/3"},
		PullRequest{Action: "updated", URL: "https://github.com/acme/manifests/pull/5"})
	if text := SlackText(s); !strings.Contains(text, "(commit `0123456`, 2 pull requests)") || !strings.Contains(text, "Pull request closed: https://github.com/acme/manifests/pull/3") {
		t.Errorf("several requests:\n%s", text)
	}
	p := NewPayload(s)
	if p.Pushed || len(p.PullRequests) != 3 || p.PullRequests[0] != (PayloadPullRequest{Action: "opened", Number: 7, URL: s.PullRequests[0].URL, Branch: "laminar/prod"}) {
		t.Errorf("payload: pushed %v, pull requests %+v", p.Pushed, p.PullRequests)
	}
	if b, err := json.Marshal(NewPayload(sample())); err != nil || strings.Contains(string(b), "pull_requests") {
		t.Errorf("a pushed run's payload names pull requests: %s, %v", b, err)
	}
}
