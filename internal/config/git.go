package config

import (
	"fmt"
	"strings"
)

// Git is the [git] table: how `git laminar run` reaches the remote. It may
// be written in laminar.toml and in the user-level file; keys set in the
// user-level file win (see Merge), since a key file is a matter of the
// machine that runs, not of the repository.
type Git struct {
	Remote     string   // remote name; empty: the branch's upstream, else origin
	Branch     string   // remote branch; empty: the upstream's, else the local branch's name
	SSHKey     string   // private key file for SSH remotes (absolute once loaded)
	KnownHosts []string // known_hosts files (absolute once loaded)
	Retries    *int     // push attempts after a rejection; nil: the default
	// Verify says whether run's commits run the pre-commit and commit-msg
	// hooks; nil: true, as for git commit.
	Verify *bool
}

// DefaultRetries is how many times run recomputes and pushes again after
// the remote moved under it.
const DefaultRetries = 3

type rawGit struct {
	Remote     string `toml:"remote"`
	Branch     string `toml:"branch"`
	SSHKey     string `toml:"ssh_key"`
	KnownHosts any    `toml:"known_hosts"` // a path or a list of paths
	Retries    *int   `toml:"retries"`
	Verify     any    `toml:"verify"`
}

var gitKeys = []string{"remote", "branch", "ssh_key", "known_hosts", "retries", "verify"}

// Merge returns g with the keys set in over replacing its own.
func (g Git) Merge(over Git) Git {
	if over.Remote != "" {
		g.Remote = over.Remote
	}
	if over.Branch != "" {
		g.Branch = over.Branch
	}
	if over.SSHKey != "" {
		g.SSHKey = over.SSHKey
	}
	if len(over.KnownHosts) > 0 {
		g.KnownHosts = over.KnownHosts
	}
	if over.Retries != nil {
		g.Retries = over.Retries
	}
	if over.Verify != nil {
		g.Verify = over.Verify
	}
	return g
}

func buildGit(r rawGit, file string, loc *locator, dir string) (Git, error) {
	fail := func(key, msg string) (Git, error) {
		return Git{}, &Error{File: file, Line: loc.keyLineIn("git", -1, key), Key: "git." + key, Msg: msg}
	}
	g := Git{Remote: r.Remote, Branch: r.Branch, Retries: r.Retries}
	if strings.ContainsAny(r.Remote, " \t\r\n") || strings.HasPrefix(r.Remote, "-") {
		return fail("remote", fmt.Sprintf("%q is not a remote name", r.Remote))
	}
	if r.Branch != "" && (strings.HasPrefix(r.Branch, "refs/") || strings.HasPrefix(r.Branch, "-") || strings.ContainsAny(r.Branch, " \t\r\n~^:?*[\\") || strings.Contains(r.Branch, "..")) {
		return fail("branch", fmt.Sprintf("%q is not a branch name (write it short, e.g. \"main\")", r.Branch))
	}
	if r.Retries != nil && (*r.Retries < 0 || *r.Retries > 100) {
		return fail("retries", fmt.Sprintf("%d is not between 0 and 100", *r.Retries))
	}
	switch v := r.Verify.(type) {
	case nil:
	case bool:
		g.Verify = &v
	default:
		return fail("verify", fmt.Sprintf("%v is not true or false", v))
	}
	if r.SSHKey != "" {
		p, err := resolvePath(r.SSHKey, dir)
		if err != nil {
			return fail("ssh_key", err.Error())
		}
		g.SSHKey = p
	}
	var hosts []string
	switch v := r.KnownHosts.(type) {
	case nil:
	case string:
		hosts = []string{v}
	case []any:
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return fail("known_hosts", "give a path or a list of paths")
			}
			hosts = append(hosts, s)
		}
	default:
		return fail("known_hosts", "give a path or a list of paths")
	}
	for _, h := range hosts {
		if h == "" {
			return fail("known_hosts", "empty path")
		}
		p, err := resolvePath(h, dir)
		if err != nil {
			return fail("known_hosts", err.Error())
		}
		g.KnownHosts = append(g.KnownHosts, p)
	}
	return g, nil
}
