package notify

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/printable"
)

// PayloadVersion is the version of the "json" payload. Fields may be added
// within a version; none is removed or changes meaning.
const PayloadVersion = 1

// Payload is the body of a "json" notification. The field names are a
// contract.
type Payload struct {
	Version    int    `json:"version"`    // PayloadVersion
	Event      string `json:"event"`      // always "laminar.run"
	Status     string `json:"status"`     // "promoted", "partial" or "failed" (see Summary.Status)
	Repository string `json:"repository"` // as Summary.Repository
	Branch     string `json:"branch,omitempty"`
	Commit     string `json:"commit,omitempty"` // full hash of the commit made
	Pushed     bool   `json:"pushed"`
	// PullRequests are the requests opened, updated or closed, in pull
	// request mode (where Pushed is false: the promotions were proposed).
	PullRequests []PayloadPullRequest `json:"pull_requests,omitempty"`
	// Started and Finished are RFC 3339 times in UTC.
	Started         string             `json:"started,omitempty"`
	Finished        string             `json:"finished,omitempty"`
	DurationSeconds float64            `json:"duration_seconds"`
	Promotions      []PayloadPromotion `json:"promotions"`
	Failures        []PayloadFailure   `json:"failures"`
	Error           string             `json:"error,omitempty"` // why the run failed as a whole
}

// PayloadPromotion is one promotion; the same keys as `git laminar bump --json`.
type PayloadPromotion struct {
	Image  string   `json:"image"`
	From   string   `json:"from"`
	To     string   `json:"to"`
	Digest string   `json:"digest,omitempty"`
	Rule   string   `json:"rule,omitempty"`
	Files  []string `json:"files"`
}

// PayloadPullRequest is one pull or merge request.
type PayloadPullRequest struct {
	Action string `json:"action"` // "opened", "updated", "unchanged" or "closed"
	Number int    `json:"number,omitempty"`
	URL    string `json:"url"`
	Branch string `json:"branch"`
}

// PayloadFailure is one image that failed.
type PayloadFailure struct {
	Image string `json:"image"`
	Error string `json:"error"`
}

// NewPayload builds the "json" payload of a summary.
func NewPayload(s Summary) Payload {
	p := Payload{
		Version: PayloadVersion, Event: "laminar.run", Status: s.Status(),
		Repository: s.Repository, Branch: s.Branch, Commit: s.Commit, Pushed: s.Pushed,
		Started: stamp(s.Started), Finished: stamp(s.Finished), Error: s.Error,
		Promotions: []PayloadPromotion{}, Failures: []PayloadFailure{},
	}
	if !s.Started.IsZero() && s.Finished.After(s.Started) {
		p.DurationSeconds = s.Finished.Sub(s.Started).Seconds()
	}
	for _, pr := range s.Promotions {
		files := pr.Files
		if files == nil {
			files = []string{}
		}
		p.Promotions = append(p.Promotions, PayloadPromotion{Image: pr.Image, From: pr.From, To: pr.To, Digest: pr.Digest, Rule: pr.Rule, Files: files})
	}
	for _, f := range s.Failures {
		p.Failures = append(p.Failures, PayloadFailure(f))
	}
	for _, pr := range s.PullRequests {
		p.PullRequests = append(p.PullRequests, PayloadPullRequest(pr))
	}
	return p
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// SlackText is the message of a "slack" notification, in Slack's mrkdwn:
// a headline, one line per promotion and one per failure.
//
//	*git laminar* promoted 2 images in `manifests` on `main` (commit `1a2b3c4`, pushed)
//	• `registry.example.com/acme/app` `1.4.0` → `1.5.0`
//
// In pull request mode the headline says "pull request opened" (or
// updated), and a line per request gives its URL:
//
//	Pull request opened: https://github.com/acme/manifests/pull/7
//	:warning: 1 image failed:
//	• `registry.example.com/acme/db`: listing tags: 503 Service Unavailable
func SlackText(s Summary) string {
	var b strings.Builder
	where := ""
	if s.Repository != "" {
		where = " in " + code(shortRepo(s.Repository))
	}
	if s.Branch != "" {
		where += " on " + code(s.Branch)
	}
	switch n := len(s.Promotions); {
	case n > 0:
		fmt.Fprintf(&b, "*git laminar* promoted %s%s", plural(n, "image"), where)
	case s.Error != "":
		fmt.Fprintf(&b, "*git laminar* failed%s", where)
	case len(s.Failures) > 0:
		fmt.Fprintf(&b, "*git laminar* could not check every image%s", where)
	default:
		fmt.Fprintf(&b, "*git laminar*: nothing to promote%s", where)
	}
	if s.Commit != "" {
		c := s.Commit
		if len(c) > 7 {
			c = c[:7]
		}
		state := "not pushed"
		switch proposed := s.proposed(); {
		case s.Pushed:
			state = "pushed"
		case len(proposed) == 1:
			state = "pull request " + proposed[0].Action
		case len(proposed) > 1:
			state = fmt.Sprintf("%d pull requests", len(proposed))
		}
		fmt.Fprintf(&b, " (commit %s, %s)", code(c), state)
	}
	b.WriteString("\n")
	for _, pr := range s.Promotions {
		fmt.Fprintf(&b, "• %s %s → %s\n", code(pr.Image), code(pr.From), code(pr.To))
	}
	for _, pr := range s.PullRequests {
		fmt.Fprintf(&b, "Pull request %s: %s\n", escape(pr.Action), escape(pr.URL))
	}
	if s.Error != "" {
		fmt.Fprintf(&b, ":x: %s\n", escape(s.Error))
		if len(s.Promotions) > 0 {
			b.WriteString("The promotions above were not committed.\n")
		}
	}
	if n := len(s.Failures); n > 0 {
		fmt.Fprintf(&b, ":warning: %s failed:\n", plural(n, "image"))
		for _, f := range s.Failures {
			fmt.Fprintf(&b, "• %s: %s\n", code(f.Image), escape(f.Error))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// shortRepo turns a remote URL or path into the repository's name.
func shortRepo(r string) string {
	r = strings.TrimSuffix(strings.TrimRight(r, "/"), ".git")
	if strings.HasPrefix(r, "/") {
		return path.Base(r) // a directory
	}
	if i := strings.LastIndexAny(r, ":/"); i >= 0 && i < len(r)-1 {
		// "git@host:org/repo" and "https://host/org/repo": keep org/repo.
		rest := r[:i]
		if j := strings.LastIndexAny(rest, ":/"); j >= 0 && !strings.HasSuffix(rest[:j+1], "//") {
			return rest[j+1:] + "/" + r[i+1:]
		}
		return path.Base(r[i+1:])
	}
	return r
}

// escape makes text safe in mrkdwn: Slack reads <...> as links and
// mentions, and wants &, < and > escaped. Control and formatting
// characters are escaped first, so that a value (a registry's error, a
// file name) keeps to its line and cannot reverse the text after it.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(printable.String(s))
}

// code is s as inline code; a backquote inside would end it early.
func code(s string) string {
	return "`" + escape(strings.ReplaceAll(s, "`", "'")) + "`"
}
