// Package notify tells a webhook what an unattended run did: the images it
// promoted, the commit it made, what failed. Two payloads are spoken:
// "slack", the {"text": ...} body that Slack's incoming webhooks (and
// Mattermost, Rocket.Chat, Discord's /slack endpoint, ...) accept, and
// "json", a stable document for programs (see Payload).
//
// Webhook URLs are secrets (a Slack URL is its own credential), so no error
// or message of this package contains more of the URL than its scheme and
// host.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/printable"
)

// Formats lists the accepted values of Config.Format.
var Formats = []string{"slack", "json"}

// Config says where and how to send.
type Config struct {
	URL    string // the webhook; a secret
	Format string // "slack" (default) or "json"
	// Timeout bounds each attempt; zero means 10s.
	Timeout time.Duration
	// Client sends the requests; nil means a client of our own. Redirects
	// are never followed either way (a redirect would resend the payload to
	// a place the configuration does not name).
	Client *http.Client
}

// Summary is what a run did. Build it after the run, whatever its outcome.
type Summary struct {
	Repository string // a name for the repository: its remote URL (without credentials) or directory
	Branch     string
	Commit     string // hash of the commit made; empty when none
	Pushed     bool   // the commit was pushed
	// PullRequests are the requests the run opened, updated or closed: in
	// pull request mode the promotions are proposed, not pushed.
	PullRequests []PullRequest
	Promotions   []Promotion
	Failures     []Failure
	// Error is why the run as a whole failed (commit, push, exec action,
	// ...); empty when it did not.
	Error    string
	Started  time.Time
	Finished time.Time
}

// Promotion is one image moved to a new tag.
type Promotion struct {
	Image  string
	From   string
	To     string
	Digest string   // digest of To, when known
	Rule   string   // the [[update]] rule
	Files  []string // files edited
}

// PullRequest is a pull or merge request a run acted on.
type PullRequest struct {
	Action string // "opened", "updated", "unchanged" or "closed"
	Number int    // 0 when the forge did not say
	URL    string
	Branch string
}

// proposed are the requests that carry promotions (all but closed ones).
func (s Summary) proposed() []PullRequest {
	var out []PullRequest
	for _, p := range s.PullRequests {
		if p.Action != "closed" {
			out = append(out, p)
		}
	}
	return out
}

// Failure is one image that could not be handled; the others went on.
type Failure struct {
	Image string
	Error string
}

// Noteworthy reports whether the summary is worth a message: something was
// promoted or something failed. A run that found every image up to date
// sends nothing, so that a run every few minutes does not flood a channel.
func (s Summary) Noteworthy() bool {
	return len(s.Promotions) > 0 || len(s.Failures) > 0 || s.Error != ""
}

// Status is "failed" when the run failed as a whole, "partial" when some
// images failed, "promoted" when images were promoted and nothing failed,
// and "ok" when there was nothing to do.
func (s Summary) Status() string {
	switch {
	case s.Error != "":
		return "failed"
	case len(s.Failures) > 0:
		return "partial"
	case len(s.Promotions) > 0:
		return "promoted"
	}
	return "ok"
}

// Send posts the summary to the webhook. It sends nothing and returns nil
// when the summary is not Noteworthy. Attempts that fail on the network or
// with a 429 or 5xx answer are repeated twice, waiting as Retry-After asks
// (at most 30s) or a few seconds; ctx bounds the whole.
func Send(ctx context.Context, cfg Config, s Summary) error {
	if !s.Noteworthy() {
		return nil
	}
	body, err := Render(cfg.Format, s)
	if err != nil {
		return err
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("notify: the webhook URL is not an http or https URL")
	}
	where := Redact(cfg.URL)
	client := cfg.Client
	if client == nil {
		client = &http.Client{}
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}

	var last error
	for attempt := 0; ; attempt++ {
		wait, err := post(ctx, &c, cfg.URL, body, timeout)
		if err == nil {
			return nil
		}
		last = scrub(err, cfg.URL)
		if wait < 0 || attempt >= len(backoff) {
			break
		}
		if wait == 0 {
			wait = backoff[attempt]
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("notify %s: %v (gave up: %v)", where, last, ctx.Err())
		case <-t.C:
		}
	}
	return fmt.Errorf("notify %s: %v", where, last)
}

// backoff is the wait before each repeated attempt when the server gives
// no Retry-After.
var backoff = []time.Duration{2 * time.Second, 5 * time.Second}

const maxRetryAfter = 30 * time.Second

// post makes one attempt. wait < 0 means the failure is final; wait > 0 is
// how long the server asked to wait before the next attempt.
func post(ctx context.Context, c *http.Client, rawURL string, body []byte, timeout time.Duration) (wait time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return -1, errors.New("bad webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "git-laminar")
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error repeats the whole URL
		}
		return 0, err
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	msg := fmt.Sprintf("the webhook answered %s", resp.Status)
	if t := strings.TrimSpace(string(text)); t != "" && utf8Printable(t) {
		msg += ": " + t
	}
	err = errors.New(msg)
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return retryAfter(resp.Header.Get("Retry-After")), err
	}
	return -1, err
}

func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	// At least a millisecond: 0 means "no Retry-After" to the caller.
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n >= 0 {
		return min(max(time.Duration(n)*time.Second, time.Millisecond), maxRetryAfter)
	}
	if t, err := http.ParseTime(h); err == nil {
		return min(max(time.Until(t), time.Millisecond), maxRetryAfter)
	}
	return 0
}

func utf8Printable(s string) bool {
	for _, r := range s {
		if r == '\uFFFD' || (r < ' ' && r != '\n' && r != '\t' && r != '\r') {
			return false
		}
	}
	return true
}

// Redact returns the part of a webhook URL that can be shown: its scheme
// and host ("https://hooks.slack.com"). The path, query and user
// information, where webhook secrets live, are left out.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "(webhook URL)"
	}
	return u.Scheme + "://" + u.Host
}

// scrub removes every secret part of rawURL from an error's text, in case
// a lower layer or the server repeated it.
func scrub(err error, rawURL string) error {
	msg := err.Error()
	u, perr := url.Parse(rawURL)
	secrets := []string{rawURL}
	if perr == nil {
		secrets = append(secrets, u.RawQuery, u.EscapedPath(), u.Path)
		if u.User != nil {
			secrets = append(secrets, u.User.String())
		}
	}
	changed := false
	for _, s := range secrets {
		if len(s) > 1 && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "(redacted)")
			changed = true
		}
	}
	if !changed {
		return err
	}
	return errors.New(msg)
}

// Render returns the request body Send would post for format.
func Render(format string, s Summary) ([]byte, error) {
	switch format {
	case "", "slack":
		return json.Marshal(map[string]string{"text": SlackText(s)})
	case "json":
		// Exact values, with what a terminal would act on as \u escapes,
		// as in the --json output of the commands.
		b, err := json.Marshal(NewPayload(s))
		return printable.JSON(b), err
	}
	return nil, fmt.Errorf("notify: format %q is not one of %s", format, strings.Join(Formats, ", "))
}
