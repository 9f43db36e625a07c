package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/transport"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"

	"github.com/git-laminar/git-laminar/internal/printable"
)

// Fetching and pushing go through go-git's transports: file:// and local
// paths run the git-upload-pack and git-receive-pack programs of the
// installed git (so a bare repository's hooks run as with git push), ssh://
// and scp-like addresses use go-git's SSH client (golang.org/x/crypto/ssh),
// and http(s):// its smart HTTP client. Authentication is this file's
// business, see Transport.

// ErrNoRemote is wrapped when a remote is not configured.
var ErrNoRemote = errors.New("no such remote")

// ErrNoRemoteBranch is wrapped by Fetch when the remote has no such branch.
var ErrNoRemoteBranch = errors.New("no such branch on the remote")

// ErrHostKey is wrapped when an SSH server's host key is not in
// known_hosts, or does not match the key recorded there.
var ErrHostKey = errors.New("host key not trusted")

// Transport says how to authenticate to remotes.
type Transport struct {
	// SSHKey is a private key file for SSH remotes. Empty: the ssh-agent
	// at SSH_AUTH_SOCK, else the first of ~/.ssh/id_ed25519, id_ecdsa and
	// id_rsa that exists. A key protected by a passphrase is read with the
	// passphrase in SSHKeyPassphrase.
	SSHKey           string
	SSHKeyPassphrase string
	// KnownHosts lists the known_hosts files that SSH host keys are checked
	// against. Empty: ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts (or
	// $SSH_KNOWN_HOSTS). A host that is in none of them is refused.
	KnownHosts []string
}

// Remote is a configured remote.
type Remote struct {
	Name    string
	URL     string // remote.<name>.url (the first one)
	PushURL string // remote.<name>.pushurl, else URL
}

// Upstream returns the remote and the remote branch (short name) that
// branch tracks (branch.<name>.remote and branch.<name>.merge). ok is
// false when the branch has no upstream, or tracks a local branch (".").
func (r *Repo) Upstream(branch string) (remote, remoteBranch string, ok bool, err error) {
	cfg, err := r.config()
	if err != nil {
		return "", "", false, err
	}
	remote = cfg.get("branch." + branch + ".remote")
	merge := cfg.get("branch." + branch + ".merge")
	if remote == "" || remote == "." || merge == "" {
		return "", "", false, nil
	}
	return remote, strings.TrimPrefix(merge, "refs/heads/"), true, nil
}

// Remote returns the configuration of the remote called name.
func (r *Repo) Remote(name string) (Remote, error) {
	if name == "" || strings.ContainsAny(name, " \t\n\r") || strings.HasPrefix(name, "-") {
		return Remote{}, fmt.Errorf("remote %q: %w", name, ErrNoRemote)
	}
	cfg, err := r.config()
	if err != nil {
		return Remote{}, err
	}
	urls := cfg.vals[canonicalKey("remote."+name+".url")]
	if len(urls) == 0 {
		return Remote{}, fmt.Errorf("remote %q: %w (git remote -v lists the remotes)", name, ErrNoRemote)
	}
	rm := Remote{Name: name, URL: r.absURL(urls[0])}
	rm.PushURL = rm.URL
	if p := cfg.get("remote." + name + ".pushurl"); p != "" {
		rm.PushURL = r.absURL(p)
	}
	return rm, nil
}

// absURL makes a relative local path (as `git clone ../x` records it)
// absolute; go-git would read it from the process's directory.
func (r *Repo) absURL(u string) string {
	if strings.Contains(u, "://") || filepath.IsAbs(u) || isSCPLike(u) {
		return u
	}
	return filepath.Join(r.Root, u)
}

// isSCPLike reports whether u is git's "[user@]host:path" form.
func isSCPLike(u string) bool {
	colon := strings.IndexByte(u, ':')
	return colon > 0 && !strings.ContainsAny(u[:colon], "/\\")
}

// RemoteTrackingRef is the ref Fetch records a remote branch under.
func RemoteTrackingRef(remote, branch string) string {
	return "refs/remotes/" + remote + "/" + branch
}

// Fetch fetches branch (a short name) from the remote into its
// remote-tracking ref, refs/remotes/<remote>/<branch>, forcing it as `git
// fetch` does for the default refspec, and returns the commit the branch
// points at on the remote. Tags are not fetched.
func (r *Repo) Fetch(ctx context.Context, rm Remote, branch string, t Transport) (string, error) {
	if err := checkBranchName(branch); err != nil {
		return "", err
	}
	tracking := RemoteTrackingRef(rm.Name, branch)
	if r.repo == nil {
		return r.fetchWithGit(ctx, rm, branch, tracking, t)
	}
	spec := config.RefSpec("+refs/heads/" + branch + ":" + tracking)
	err := r.withAuth(ctx, rm.URL, t, func(auth transport.AuthMethod) error {
		remote := gogit.NewRemote(r.repo.Storer, &config.RemoteConfig{Name: rm.Name, URLs: []string{rm.URL}})
		return remote.FetchContext(ctx, &gogit.FetchOptions{
			RemoteName: rm.Name, RemoteURL: rm.URL, RefSpecs: []config.RefSpec{spec},
			Auth: auth, Tags: gogit.NoTags,
		})
	})
	switch {
	case err == nil, errors.Is(err, gogit.NoErrAlreadyUpToDate):
	case errors.Is(err, gogit.NoMatchingRefSpecError{}):
		return "", fmt.Errorf("fetch %s: branch %q: %w", printable.String(Redact(rm.URL)), branch, ErrNoRemoteBranch)
	default:
		// The remote's words (a server's message, its hooks' output) are
		// escaped: they must not act on the terminal or forge a line.
		return "", fmt.Errorf("fetch %s: %w", printable.String(Redact(rm.URL)), printable.Err(err))
	}
	h, ok, err := r.readRef(tracking)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("fetch %s: %s was not written", Redact(rm.URL), tracking)
	}
	return h, nil
}

// Push updates branch on the remote to the commit that the local branch
// local (a short name) points at, without force: the remote refuses
// unless it is a fast-forward, and refuses too when the branch moved on
// the remote meanwhile. On success the remote-tracking ref is updated.
func (r *Repo) Push(ctx context.Context, rm Remote, local, branch string, t Transport) error {
	if err := checkBranchName(local); err != nil {
		return err
	}
	if err := checkBranchName(branch); err != nil {
		return err
	}
	pushed, ok, err := r.readRef("refs/heads/" + local)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("push: no branch %q", local)
	}
	spec := "refs/heads/" + local + ":refs/heads/" + branch
	if r.repo == nil {
		// As go-git pushes: no local hooks, no force.
		if _, err := r.runGit(ctx, t, rm.PushURL, "push", "--porcelain", "--no-verify", "--", rm.PushURL, spec); err != nil {
			return fmt.Errorf("push to %s: %w", printable.String(Redact(rm.PushURL)), authHint(err))
		}
	} else {
		err = r.withAuth(ctx, rm.PushURL, t, func(auth transport.AuthMethod) error {
			remote := gogit.NewRemote(r.repo.Storer, &config.RemoteConfig{Name: rm.Name, URLs: []string{rm.PushURL}})
			return remote.PushContext(ctx, &gogit.PushOptions{
				RemoteName: rm.Name, RemoteURL: rm.PushURL, RefSpecs: []config.RefSpec{config.RefSpec(spec)}, Auth: auth,
			})
		})
		if err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
			return fmt.Errorf("push to %s: %w", printable.String(Redact(rm.PushURL)), printable.Err(err))
		}
	}
	// go-git updates tracking refs only for configured fetch refspecs.
	tracking := RemoteTrackingRef(rm.Name, branch)
	who := Signature{Name: "git-laminar", Email: "", When: time.Now()}
	if _, c, err := r.Identity(); err == nil {
		who = c
	}
	if err := r.UpdateRef(tracking, pushed, "", "update by push", who); err != nil {
		return fmt.Errorf("pushed, but updating %s: %w", tracking, err)
	}
	return nil
}

// fetchWithGit is Fetch in a SHA-256 repository, whose objects go-git's
// transports cannot take: the installed git fetches, with the transport
// settings runGit gives it and git's own credential helpers.
func (r *Repo) fetchWithGit(ctx context.Context, rm Remote, branch, tracking string, t Transport) (string, error) {
	_, err := r.runGit(ctx, t, rm.URL, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules",
		"--no-auto-maintenance", "--", rm.URL, "+refs/heads/"+branch+":"+tracking)
	if err != nil {
		if strings.Contains(err.Error(), "couldn't find remote ref") {
			return "", fmt.Errorf("fetch %s: branch %q: %w", printable.String(Redact(rm.URL)), branch, ErrNoRemoteBranch)
		}
		return "", fmt.Errorf("fetch %s: %w", printable.String(Redact(rm.URL)), authHint(err))
	}
	h, ok, err := r.readRef(tracking)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("fetch %s: %s was not written", Redact(rm.URL), tracking)
	}
	return h, nil
}

// authHint says in plain words what git means when a server demanded
// credentials that no helper gave (prompts are off).
func authHint(err error) error {
	if strings.Contains(err.Error(), "could not read Username") || strings.Contains(err.Error(), "could not read Password") {
		return fmt.Errorf("authentication required and no credential helper gave credentials: %w", err)
	}
	return err
}

func checkBranchName(b string) error {
	if b == "" || strings.HasPrefix(b, "-") || strings.HasPrefix(b, "refs/") || strings.Contains(b, "..") ||
		strings.ContainsAny(b, " \t\n~^:?*[\\") || strings.HasSuffix(b, "/") || strings.HasSuffix(b, ".lock") {
		return fmt.Errorf("%q is not a branch name", b)
	}
	return nil
}

// withAuth runs op with the credentials the URL's scheme calls for. For
// HTTP(S) it first tries without any, and asks git's credential helpers
// only when the server demands authentication, telling them afterwards
// whether the credentials worked (git credential approve / reject).
func (r *Repo) withAuth(ctx context.Context, rawURL string, t Transport, op func(transport.AuthMethod) error) error {
	ep, err := transport.NewEndpoint(rawURL)
	if err != nil {
		return fmt.Errorf("remote URL: %w", err)
	}
	switch ep.Protocol {
	case "ssh":
		auth, err := sshAuth(ep, t)
		if err != nil {
			return err
		}
		return hostKeyError(op(auth))
	case "http", "https":
		err := op(nil)
		if !errors.Is(err, transport.ErrAuthenticationRequired) && !errors.Is(err, transport.ErrAuthorizationFailed) {
			return err
		}
		cred, ferr := r.credentialFill(ctx, ep)
		if ferr != nil {
			return fmt.Errorf("%w (git credential fill: %v)", err, ferr)
		}
		err = op(cred.auth())
		switch {
		case err == nil || errors.Is(err, gogit.NoErrAlreadyUpToDate):
			r.credentialReport(ctx, "approve", cred)
		case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed):
			r.credentialReport(ctx, "reject", cred)
		}
		return err
	}
	return op(nil)
}

// sshAuth builds the SSH client authentication for ep: a key file, the
// agent, or a default key, and host keys checked against known_hosts. It
// never accepts an unknown host key.
func sshAuth(ep *transport.Endpoint, t Transport) (transport.AuthMethod, error) {
	user := ep.User
	if user == "" {
		user = "git"
	}

	// Host keys first: every way of authenticating below gets the same check.
	files := t.KnownHosts
	if len(files) == 0 {
		files = filepath.SplitList(os.Getenv("SSH_KNOWN_HOSTS"))
	}
	if len(files) == 0 {
		if home, err := os.UserHomeDir(); err == nil {
			files = append(files, filepath.Join(home, ".ssh", "known_hosts"))
		}
		files = append(files, "/etc/ssh/ssh_known_hosts")
	}
	var existing []string
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			existing = append(existing, f)
		}
	}
	port := ep.Port
	if port <= 0 {
		port = 22
	}
	hostport := net.JoinHostPort(ep.Host, strconv.Itoa(port))
	if len(existing) == 0 {
		return nil, fmt.Errorf("%w: no known_hosts file (looked for %s); add the server's key, e.g. ssh-keyscan -p %d %s >> ~/.ssh/known_hosts, after checking it",
			ErrHostKey, strings.Join(files, ", "), port, ep.Host)
	}
	db, err := gitssh.NewKnownHostsDb(existing...)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	check := db.HostKeyCallback()
	helper := gitssh.HostKeyCallbackHelper{
		HostKeyCallback: func(host string, remote net.Addr, key ssh.PublicKey) error {
			if err := check(host, remote, key); err != nil {
				return &hostKeyErr{host: host, files: existing, err: err}
			}
			return nil
		},
		// The algorithms of the recorded keys, so that the server offers
		// a key that can be checked.
		HostKeyAlgorithms: db.HostKeyAlgorithms(hostport),
	}

	switch {
	case t.SSHKey != "":
		k, err := gitssh.NewPublicKeysFromFile(user, t.SSHKey, t.SSHKeyPassphrase)
		if err != nil {
			return nil, fmt.Errorf("ssh key %s: %w", t.SSHKey, err)
		}
		k.HostKeyCallbackHelper = helper
		return k, nil
	case os.Getenv("SSH_AUTH_SOCK") != "":
		a, err := gitssh.NewSSHAgentAuth(user)
		if err != nil {
			return nil, fmt.Errorf("ssh-agent: %w", err)
		}
		a.HostKeyCallbackHelper = helper
		return a, nil
	}
	home, _ := os.UserHomeDir()
	for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		p := filepath.Join(home, ".ssh", name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		k, err := gitssh.NewPublicKeysFromFile(user, p, t.SSHKeyPassphrase)
		if err != nil {
			return nil, fmt.Errorf("ssh key %s: %w", p, err)
		}
		k.HostKeyCallbackHelper = helper
		return k, nil
	}
	return nil, errors.New("no SSH key: set ssh_key in the [git] table of ~/.config/git-laminar/config.toml, or start an ssh-agent (SSH_AUTH_SOCK)")
}

type hostKeyErr struct {
	host  string
	files []string
	err   error
}

func (e *hostKeyErr) Error() string {
	msg := e.err.Error()
	if strings.Contains(msg, "mismatch") {
		return fmt.Sprintf("%s: the host key of %s does NOT match the one recorded in %s (%s)", ErrHostKey, e.host, strings.Join(e.files, ", "), msg)
	}
	return fmt.Sprintf("%s: the host key of %s is not in %s; add it (after checking it) with ssh-keyscan", ErrHostKey, e.host, strings.Join(e.files, ", "))
}

func (e *hostKeyErr) Unwrap() []error { return []error{ErrHostKey, e.err} }

// hostKeyError brings a host key refusal to the surface: the SSH library
// reports it inside a handshake error string.
func hostKeyError(err error) error {
	if err == nil {
		return nil
	}
	var he *hostKeyErr
	if errors.As(err, &he) {
		return he
	}
	if strings.Contains(err.Error(), ErrHostKey.Error()) {
		return fmt.Errorf("%w: %v", ErrHostKey, err)
	}
	return err
}

// Redact returns a remote URL without a password it may embed.
func Redact(rawURL string) string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return rawURL
	}
	at := strings.LastIndexByte(rest, '@')
	slash := strings.IndexByte(rest, '/')
	if at < 0 || (slash >= 0 && at > slash) {
		return rawURL
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return rawURL
	}
	return scheme + "://" + user + ":***@" + rest[at+1:]
}
