package gitrepo

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Signature is who did something and when.
type Signature struct {
	Name, Email string
	When        time.Time
}

// Identity returns the author and committer git would record for a commit
// made now: GIT_AUTHOR_NAME/EMAIL/DATE and GIT_COMMITTER_NAME/EMAIL/DATE
// first, then author.* / committer.* and user.* from configuration, then
// $EMAIL for the address. Unlike git it never guesses a name or address
// from the host: when one is missing the error says how to set it.
func (r *Repo) Identity() (author, committer Signature, err error) {
	cfg, err := r.config()
	if err != nil {
		return Signature{}, Signature{}, err
	}
	now := time.Now()
	author, errA := identity(cfg, "author", now)
	committer, errC := identity(cfg, "committer", now)
	if err := errors.Join(errA, errC); err != nil {
		return Signature{}, Signature{}, err
	}
	return author, committer, nil
}

func identity(cfg *gitConfig, role string, now time.Time) (Signature, error) {
	env := "GIT_" + strings.ToUpper(role) + "_"
	first := func(vals ...string) string {
		for _, v := range vals {
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
		return ""
	}
	s := Signature{
		Name:  first(os.Getenv(env+"NAME"), cfg.get(role+".name"), cfg.get("user.name")),
		Email: first(os.Getenv(env+"EMAIL"), cfg.get(role+".email"), cfg.get("user.email"), os.Getenv("EMAIL")),
		When:  now,
	}
	var missing []string
	if s.Name == "" {
		missing = append(missing, "name")
	}
	if s.Email == "" {
		missing = append(missing, "email")
	}
	if len(missing) > 0 {
		return Signature{}, fmt.Errorf("%s %s unknown: set user.name and user.email: "+
			"git config --global user.name \"Your Name\" && git config --global user.email you@example.com "+
			"(or %sNAME and %sEMAIL)", role, strings.Join(missing, " and "), env, env)
	}
	if d := os.Getenv(env + "DATE"); d != "" {
		t, err := parseGitDate(d)
		if err != nil {
			return Signature{}, fmt.Errorf("%sDATE: %w", env, err)
		}
		s.When = t
	}
	if err := s.validate(); err != nil {
		return Signature{}, fmt.Errorf("%s: %w", role, err)
	}
	return s, nil
}

func (s Signature) validate() error {
	if strings.TrimSpace(s.Name) == "" || strings.TrimSpace(s.Email) == "" {
		return errors.New("signature needs a name and an email")
	}
	if strings.ContainsAny(s.Name, "<>\n\x00") || strings.ContainsAny(s.Email, "<>\n\x00") {
		return fmt.Errorf("invalid characters in identity %q <%s>", s.Name, s.Email)
	}
	if s.When.IsZero() {
		return errors.New("signature has no time")
	}
	return nil
}

var rawDate = regexp.MustCompile(`^@?(\d+)(?:\s+([+-]\d{4}))?$`)

// parseGitDate reads the date formats git documents for GIT_*_DATE:
// git's internal "<unix seconds> <+hhmm>" (optionally with "@"), RFC 2822
// and ISO 8601.
func parseGitDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if m := rawDate.FindStringSubmatch(s); m != nil {
		sec, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("bad date %q", s)
		}
		loc := time.UTC
		if m[2] != "" {
			loc = parseTZ(m[2])
		}
		return time.Unix(sec, 0).In(loc), nil
	}
	layouts := []string{
		time.RFC1123Z,
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"2 Jan 2006 15:04:05 -0700",
		time.RFC3339,
		"2006-01-02T15:04:05-0700",
		"2006-01-02 15:04:05 -0700",
		"2006-01-02 15:04:05 -07:00",
		"2006-01-02 15:04:05Z07:00",
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	for _, l := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(l, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unsupported date format %q (use \"<unix-seconds> +0000\", RFC 2822 or ISO 8601)", s)
}

func parseTZ(tz string) *time.Location {
	h, _ := strconv.Atoi(tz[1:3])
	m, _ := strconv.Atoi(tz[3:5])
	off := h*3600 + m*60
	if tz[0] == '-' {
		off = -off
	}
	return time.FixedZone(tz, off)
}
