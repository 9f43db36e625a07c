package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Notify is the [notify] table: the webhook told about unattended runs.
type Notify struct {
	// URL is the webhook, when written in the file. A webhook URL is often
	// a credential (Slack's is); URLEnv keeps it out of the repository.
	URL    string
	URLEnv string // name of the environment variable holding the URL
	Format string // "slack" (the default) or "json"
	// Timeout bounds each attempt; zero means the sender's default.
	Timeout time.Duration
	Line    int // line of the [notify] header; 0 when absent
}

// Enabled reports whether a webhook is configured.
func (n Notify) Enabled() bool { return n.URL != "" || n.URLEnv != "" }

// WebhookURL returns the webhook, reading URLEnv with getenv when set. An
// unset or empty variable is an error naming the variable, never a value.
func (n Notify) WebhookURL(getenv func(string) string) (string, error) {
	if n.URLEnv == "" {
		return n.URL, nil
	}
	v := strings.TrimSpace(getenv(n.URLEnv))
	if v == "" {
		return "", fmt.Errorf("notify.url_env: the environment variable %s is not set", n.URLEnv)
	}
	if err := checkWebhook(v); err != nil {
		return "", fmt.Errorf("notify.url_env: the value of %s %v", n.URLEnv, err)
	}
	return v, nil
}

// NotifyFormats lists the values accepted for notify.format.
var NotifyFormats = []string{"slack", "json"}

type rawNotify struct {
	URL     string `toml:"url"`
	URLEnv  string `toml:"url_env"`
	Format  string `toml:"format"`
	Timeout string `toml:"timeout"`
}

var notifyKeys = []string{"url", "url_env", "format", "timeout"}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func buildNotify(r rawNotify, file string, loc *locator) (Notify, error) {
	n := Notify{URL: strings.TrimSpace(r.URL), URLEnv: r.URLEnv, Format: r.Format, Line: loc.tableLine("notify", -1)}
	fail := func(key, msg string) (Notify, error) {
		return Notify{}, &Error{File: file, Line: loc.keyLineIn("notify", -1, key), Key: "notify." + key, Msg: msg}
	}
	if n.Line == 0 && r == (rawNotify{}) {
		return Notify{}, nil
	}
	switch {
	case n.URL != "" && n.URLEnv != "":
		return fail("url_env", "set url or url_env, not both")
	case n.URL == "" && n.URLEnv == "":
		return fail("url", `missing; e.g. url_env = "LAMINAR_WEBHOOK_URL" (or url = "https://...")`)
	case n.URLEnv != "" && !envNameRE.MatchString(n.URLEnv):
		return fail("url_env", fmt.Sprintf("%q: give the name of an environment variable, not its value", n.URLEnv))
	}
	if n.URL != "" {
		if err := checkWebhook(n.URL); err != nil {
			return fail("url", "the URL "+err.Error())
		}
	}
	switch n.Format {
	case "":
		n.Format = "slack"
	case "slack", "json":
	default:
		return fail("format", fmt.Sprintf("%q is not one of %s", n.Format, strings.Join(NotifyFormats, ", ")))
	}
	if r.Timeout != "" {
		d, err := time.ParseDuration(r.Timeout)
		if err != nil || d <= 0 {
			return fail("timeout", fmt.Sprintf("%q is not a duration like 10s", r.Timeout))
		}
		n.Timeout = d
	}
	return n, nil
}

// checkWebhook validates a webhook URL; its message never repeats the URL,
// which may be a secret.
func checkWebhook(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("is not an http:// or https:// URL")
	}
	return nil
}
