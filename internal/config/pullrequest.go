package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"text/template"
)

// PullRequest is the [pull_request] table: promotions proposed as pull
// requests (GitHub, Gitea/Forgejo) or merge requests (GitLab) instead of
// pushed to the followed branch.
//
// APIURL and TokenEnv decide where a token is sent and which secret it
// is: they are taken from the user-level file only (see UserKeys). The
// repository's file chooses the forge and what the request looks like;
// with no api_url in the user-level file the token goes to the forge's
// public service alone.
type PullRequest struct {
	Enabled    bool   // run proposes by default (run --pull-request does it once)
	Forge      string // "github", "gitlab" or "gitea"; empty: unset
	APIURL     string
	Repository string // "owner/name" or the GitLab project path; empty: from the remote URL
	TokenEnv   string
	Branch     string // one branch for every promotion, under laminar/; empty: laminar/<rule> per rule
	Base       string // empty: the branch run follows
	Title      string // text/template over the promotions; empty: the commit subject
	Labels     []string
	Reviewers  []string
	Draft      bool
	AutoMerge  bool
	Line       int // line of the [pull_request] header; 0 when absent
}

// PullRequestBranchPrefix starts every branch a request is proposed on:
// laminar's own namespace, the only branches it ever forces.
const PullRequestBranchPrefix = "laminar/"

// Forges lists the values accepted for pull_request.forge.
var Forges = []string{"github", "gitlab", "gitea"}

// PublicAPIURL is the API of each forge's public service, used when the
// user-level file names no api_url. Gitea has none: it is always
// self-hosted.
var PublicAPIURL = map[string]string{
	"github": "https://api.github.com",
	"gitlab": "https://gitlab.com/api/v4",
}

// DefaultTokenEnv is the variable each forge's token is read from when
// the user-level file names none.
var DefaultTokenEnv = map[string]string{
	"github": "GITHUB_TOKEN",
	"gitlab": "GITLAB_TOKEN",
	"gitea":  "GITEA_TOKEN",
}

type rawPullRequest struct {
	Enabled    bool     `toml:"enabled"`
	Forge      string   `toml:"forge"`
	APIURL     string   `toml:"api_url"`
	Repository string   `toml:"repository"`
	TokenEnv   string   `toml:"token_env"`
	Branch     string   `toml:"branch"`
	Base       string   `toml:"base"`
	Title      string   `toml:"title"`
	Labels     []string `toml:"labels"`
	Reviewers  []string `toml:"reviewers"`
	Draft      bool     `toml:"draft"`
	AutoMerge  bool     `toml:"auto_merge"`
}

var pullRequestKeys = []string{"enabled", "forge", "api_url", "repository", "token_env", "branch", "base", "title", "labels", "reviewers", "draft", "auto_merge"}

var (
	repositoryRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$`)
	prBranchRE   = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_./-]*$`)
	prNameRE     = regexp.MustCompile(`^[^\x00-\x20\x7f,]+$`)
)

func buildPullRequest(r rawPullRequest, file string, loc *locator) (PullRequest, error) {
	p := PullRequest{
		Enabled: r.Enabled, Forge: r.Forge, APIURL: strings.TrimRight(strings.TrimSpace(r.APIURL), "/"),
		Repository: r.Repository, TokenEnv: r.TokenEnv, Branch: r.Branch, Base: r.Base, Title: r.Title,
		Labels: r.Labels, Reviewers: r.Reviewers, Draft: r.Draft, AutoMerge: r.AutoMerge,
		Line: loc.tableLine("pull_request", -1),
	}
	fail := func(key, msg string) (PullRequest, error) {
		return PullRequest{}, &Error{File: file, Line: loc.keyLineIn("pull_request", -1, key), Key: "pull_request." + key, Msg: msg}
	}
	if p.Forge != "" && !slices.Contains(Forges, p.Forge) {
		return fail("forge", fmt.Sprintf("%q is not one of %s", p.Forge, strings.Join(Forges, ", ")))
	}
	if p.APIURL != "" {
		u, err := url.Parse(p.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return fail("api_url", fmt.Sprintf("%q is not an http:// or https:// URL without credentials, query or fragment", p.APIURL))
		}
	}
	if p.TokenEnv != "" && !envNameRE.MatchString(p.TokenEnv) {
		return fail("token_env", fmt.Sprintf("%q: give the name of an environment variable, not its value", p.TokenEnv))
	}
	if p.Repository != "" && (!repositoryRE.MatchString(p.Repository) || strings.Contains(p.Repository, "..")) {
		return fail("repository", fmt.Sprintf("%q is not owner/name (or a GitLab group/project path)", p.Repository))
	}
	for _, kv := range []struct{ key, val string }{{"branch", p.Branch}, {"base", p.Base}} {
		if kv.val != "" && !ValidBranch(kv.val) {
			return fail(kv.key, fmt.Sprintf("%q is not a branch name", kv.val))
		}
	}
	// The request's branch is pushed with force (under a lease): were it
	// free to choose, a change to this file could have the run replace a
	// branch people work on, or a protected one the run may push to.
	if p.Branch != "" && !strings.HasPrefix(p.Branch, PullRequestBranchPrefix) {
		return fail("branch", fmt.Sprintf("%q: the branch is force-pushed, so it must start with %q", p.Branch, PullRequestBranchPrefix))
	}
	if p.Title != "" {
		if _, err := template.New("title").Option("missingkey=error").Parse(p.Title); err != nil {
			return fail("title", "not a Go template: "+strings.TrimPrefix(err.Error(), "template: title:"))
		}
	}
	for _, kv := range []struct {
		key  string
		vals []string
	}{{"labels", p.Labels}, {"reviewers", p.Reviewers}} {
		for _, v := range kv.vals {
			if !prNameRE.MatchString(v) || len(v) > 100 {
				return fail(kv.key, fmt.Sprintf("%q: a name without spaces, commas or control characters", v))
			}
		}
	}
	return p, nil
}

// ValidBranch reports whether b can be pushed to as refs/heads/<b>: the
// subset of git's rules a configuration may use.
func ValidBranch(b string) bool {
	return prBranchRE.MatchString(b) && !strings.Contains(b, "..") && !strings.Contains(b, "//") &&
		!strings.HasSuffix(b, "/") && !strings.HasSuffix(b, ".lock") && !strings.HasSuffix(b, ".") && len(b) <= 200
}

// Merge returns p with the user-level file's keys on top: api_url and
// token_env come only from there, and any other key set there wins.
func (p PullRequest) Merge(over PullRequest) PullRequest {
	if over.Forge != "" {
		p.Forge = over.Forge
	}
	if over.APIURL != "" {
		p.APIURL = over.APIURL
	}
	if over.TokenEnv != "" {
		p.TokenEnv = over.TokenEnv
	}
	if over.Repository != "" {
		p.Repository = over.Repository
	}
	return p
}
