// Package pullreq proposes promotions for review: it pushes a promotion
// commit to a branch of laminar's own and opens, updates or closes the
// pull or merge request from that branch (through internal/forge). The
// followed branch is never pushed to, and nothing but laminar's own
// branch is ever forced, under a lease.
package pullreq

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"text/template"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/forge"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/printable"
)

// Promotion is one image moved by a proposed commit.
type Promotion struct {
	Image, From, To, Digest, Rule string
	Files                         []string
}

// Connect settles the forge, its API, the repository and the token, and
// returns the client. A token is only ever sent to the API URL: the
// user-level file's api_url, else the forge's public service.
func Connect(ctx context.Context, repo *gitrepo.Repo, pr config.PullRequest, remoteURL string, getenv func(string) string) (forge.Forge, error) {
	kind := pr.Forge
	if kind == "" {
		kind = forgeOfURL(remoteURL)
		if kind == "" {
			return nil, errors.New(`pull_request.forge is not set and the remote's host is not github.com or gitlab.com; set forge = "github", "gitlab" or "gitea" in [pull_request]`)
		}
	}
	api := pr.APIURL
	if api == "" {
		api = config.PublicAPIURL[kind]
		if api == "" {
			return nil, fmt.Errorf("pull_request.api_url: %s has no public service; set api_url in [pull_request] of the user-level file, %s", kind, config.UserFileName)
		}
	}
	repository := pr.Repository
	if repository == "" {
		repository = RepositoryOf(remoteURL)
		if repository == "" {
			return nil, fmt.Errorf("pull_request.repository is not set and the remote URL %q names no owner/name", printable.String(gitrepo.Redact(remoteURL)))
		}
	}
	env := pr.TokenEnv
	if env == "" {
		env = config.DefaultTokenEnv[kind]
	}
	token := strings.TrimSpace(getenv(env))
	if token == "" {
		t, err := repo.APIToken(ctx, api)
		if err != nil {
			return nil, err
		}
		token = t
	}
	if token == "" {
		return nil, fmt.Errorf("no token for %s: set the environment variable %s, or store one for its host with git credential approve", printable.String(api), env)
	}
	return forge.New(forge.Config{Forge: kind, APIURL: api, Repository: repository, Token: token})
}

func forgeOfURL(raw string) string {
	host := hostOf(raw)
	switch host {
	case "github.com":
		return "github"
	case "gitlab.com":
		return "gitlab"
	}
	return ""
}

var scpRE = regexp.MustCompile(`^(?:[^@/]+@)?([^:/]+):(.*)$`)

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.Host != "" {
		return strings.ToLower(u.Hostname())
	}
	if m := scpRE.FindStringSubmatch(raw); m != nil {
		return strings.ToLower(m[1])
	}
	return ""
}

var repoPathRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$`)

// RepositoryOf returns the owner/name (or GitLab's group/.../project) a
// remote URL names, in its ssh (ssh://, scp-like) or https form, or "".
func RepositoryOf(raw string) string {
	var path string
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || u.Scheme == "file" {
			return ""
		}
		path = u.Path
	} else if m := scpRE.FindStringSubmatch(raw); m != nil && !strings.Contains(m[1], "\\") {
		path = m[2]
	} else {
		return ""
	}
	path = strings.Trim(path, "/")
	path = strings.TrimSuffix(path, ".git")
	path = strings.TrimPrefix(path, "~") // ssh://host/~user/repo
	if !repoPathRE.MatchString(path) || strings.Contains(path, "..") {
		return ""
	}
	return path
}

// BranchFor is the branch a rule's promotions are proposed on: the
// configured branch (one for every rule), else laminar/<rule>.
func BranchFor(pr config.PullRequest, rule string) string {
	if pr.Branch != "" {
		return pr.Branch
	}
	return "laminar/" + branchPart(rule)
}

// branchPart turns a rule's name into a safe branch name component.
func branchPart(rule string) string {
	var b strings.Builder
	for _, r := range rule {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" || len(s) > 100 {
		s = fmt.Sprintf("rule-%x", fnv(rule))
	}
	return s
}

func fnv(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// TitleData is what [pull_request] title's template sees.
type TitleData struct {
	Rule       string // the rule, or "" when one branch holds every rule
	Subject    string // the commit's subject
	Promotions []Promotion
}

// Title renders the title template (the commit subject when empty), one
// line, escaped, at most 250 characters.
func Title(tmpl string, d TitleData) (string, error) {
	out := d.Subject
	if tmpl != "" {
		t, err := template.New("title").Option("missingkey=error").Parse(tmpl)
		if err != nil {
			return "", fmt.Errorf("pull_request.title: %w", err)
		}
		var b strings.Builder
		if err := t.Execute(&b, d); err != nil {
			return "", fmt.Errorf("pull_request.title: %w", err)
		}
		out = b.String()
	}
	out = strings.Join(strings.Fields(printable.String(out)), " ")
	if len(out) > 250 {
		out = out[:250]
	}
	if out == "" {
		out = d.Subject
	}
	return out, nil
}

// maxRows bounds the table: a body must stay under the forges' limits.
const maxRows = 200

// Body is the request's description: the promotions as a Markdown
// table, every value escaped so that it is text and nothing else (no
// cell break, link, mention, HTML or reference).
func Body(ps []Promotion, base string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "git-laminar proposes these promotions for `%s`:\n\n", strings.ReplaceAll(base, "`", ""))
	b.WriteString("| Image | From | To | Rule | Files |\n|---|---|---|---|---|\n")
	for i, p := range ps {
		if i == maxRows {
			fmt.Fprintf(&b, "\n… and %d more.\n", len(ps)-maxRows)
			break
		}
		files := make([]string, len(p.Files))
		for j, f := range p.Files {
			files[j] = MarkdownText(f)
		}
		to := MarkdownText(p.To)
		if p.Digest != "" {
			to += " (" + MarkdownText(p.Digest) + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", MarkdownText(p.Image), MarkdownText(p.From), to, MarkdownText(p.Rule), strings.Join(files, ", "))
	}
	b.WriteString("\nThe commit carries `Laminar-Promote` trailers: after a merge, a squash merge that keeps the commit message, or a rebase merge, `git laminar log` lists these promotions.\n")
	return b.String()
}

// MarkdownText escapes s for a Markdown table cell: control characters as
// printable shows them, every ASCII punctuation character behind a
// backslash (CommonMark's escapes: no |, link, emphasis, mention, issue
// reference or HTML survives), line breaks as spaces.
func MarkdownText(s string) string {
	s = printable.String(s)
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Request says what to propose: the commit (its parent is base's tip) on
// branch, and the request's look.
type Request struct {
	Branch, Commit string
	Title, Body    string
}

// Flow proposes on one forge, for one remote and base branch.
type Flow struct {
	Repo      *gitrepo.Repo
	Remote    gitrepo.Remote
	Transport gitrepo.Transport
	Forge     forge.Forge
	Base      string
	Config    config.PullRequest
}

// Outcome is what happened to one request.
type Outcome struct {
	Branch string
	Action string // "opened", "updated", "unchanged", "closed", "none"
	Number int
	URL    string
	Commit string // the proposed commit, when one was
}

// Propose pushes r.Commit to r.Branch (force-with-lease on that branch
// only) and opens the request from it, or updates the open one.
func (f *Flow) Propose(ctx context.Context, r Request) (Outcome, error) {
	out := Outcome{Branch: r.Branch}
	if r.Branch == f.Base || !strings.HasPrefix(r.Branch, config.PullRequestBranchPrefix) || !config.ValidBranch(r.Branch) {
		return out, fmt.Errorf("%q may not be a pull request's branch: it is force-pushed, so it must start with %s and not be the base", r.Branch, config.PullRequestBranchPrefix)
	}
	old, err := f.Repo.RemoteBranch(ctx, f.Remote, r.Branch, f.Transport)
	if err != nil {
		return out, err
	}
	if old != r.Commit {
		if err := f.Repo.PushLease(ctx, f.Remote, r.Commit, r.Branch, old, f.Transport); err != nil {
			return out, err
		}
	}
	open, err := f.Forge.Find(ctx, r.Branch, f.Base)
	if err != nil {
		return out, err
	}
	if open == nil {
		created, err := f.Forge.Create(ctx, forge.Spec{Head: r.Branch, Base: f.Base, Title: r.Title, Body: r.Body,
			Labels: f.Config.Labels, Reviewers: f.Config.Reviewers, Draft: f.Config.Draft, AutoMerge: f.Config.AutoMerge})
		if created != nil {
			out.Number, out.URL = created.Number, created.URL
		}
		out.Action = "opened"
		return out, err
	}
	out.Number, out.URL = open.Number, open.URL
	out.Action = "unchanged"
	if !strings.HasSuffix(open.Title, r.Title) || open.Body != r.Body {
		out.Action = "updated"
		if err := f.Forge.Update(ctx, open, r.Title, r.Body); err != nil {
			return out, err
		}
	}
	// [pull_request] may have changed since the request was opened: what
	// it asks for now is added, what people added stays.
	return out, f.Forge.Settle(ctx, open, forge.Spec{Labels: f.Config.Labels, Reviewers: f.Config.Reviewers,
		Draft: f.Config.Draft, AutoMerge: f.Config.AutoMerge})
}

// Withdraw closes the open request from branch, if any, with comment: its
// promotions are no longer needed (the base has them already).
func (f *Flow) Withdraw(ctx context.Context, branch, comment string) (Outcome, error) {
	out := Outcome{Branch: branch, Action: "none"}
	open, err := f.Forge.Find(ctx, branch, f.Base)
	if err != nil || open == nil {
		return out, err
	}
	out.Number, out.URL = open.Number, open.URL
	if err := f.Forge.Close(ctx, open, comment); err != nil {
		return out, err
	}
	out.Action = "closed"
	return out, nil
}
