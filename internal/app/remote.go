package app

import (
	"context"
	"errors"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/promote"
)

// target is where a clone's commits go: the remote, the local and remote
// branches, and how to reach the remote.
type target struct {
	remote gitrepo.Remote
	local  string // the branch HEAD is on
	branch string // the remote branch
	t      gitrepo.Transport
}

// where names the remote branch as "origin/main".
func (t target) where() string { return t.remote.Name + "/" + t.branch }

// gitConfig is [git] from laminar.toml with the user-level file's keys on
// top.
func gitConfig(ws *promote.Workspace, getenv func(string) string) config.Git {
	g := ws.Config.Git
	if u, err := config.LoadUser(config.UserPath(getenv)); err == nil {
		g = g.Merge(u.Git)
	}
	return g
}

// resolveTarget settles the remote, the branches and the credentials:
// remote and branch as given, then [git], then the branch's upstream,
// then origin/<branch>. detached is the error when HEAD is on no branch.
func resolveTarget(ws *promote.Workspace, remote, branch string, getenv func(string) string, detached string) (target, error) {
	var tg target
	repo := ws.Repo
	_, local, err := repo.Head()
	if err != nil {
		return tg, err
	}
	if local == "" {
		return tg, errors.New(detached)
	}
	tg.local = local
	if _, err := config.LoadUser(config.UserPath(getenv)); err != nil {
		return tg, err
	}
	g := gitConfig(ws, getenv)
	upRemote, upBranch, hasUp, err := repo.Upstream(local)
	if err != nil {
		return tg, err
	}
	name := first(remote, g.Remote)
	if name == "" {
		name = "origin"
		if hasUp {
			name = upRemote
		}
	}
	tg.branch = first(branch, g.Branch)
	if tg.branch == "" {
		tg.branch = local
		if hasUp && upRemote == name {
			tg.branch = upBranch
		}
	}
	tg.remote, err = repo.Remote(name)
	if err != nil {
		return tg, err
	}
	tg.t = gitrepo.Transport{SSHKey: g.SSHKey, KnownHosts: g.KnownHosts, SSHKeyPassphrase: getenv(SSHPassphraseEnv)}
	return tg, nil
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func short(h string) string {
	if len(h) > 7 {
		return h[:7]
	}
	return h
}

// PushBranch pushes the current branch once, to where Run pushes: [git]
// remote and branch, else the branch's upstream, else a branch of the same
// name on origin. It returns where it pushed ("origin/main"). Rollbacks
// and releases that are pushed at once use it.
func PushBranch(ctx context.Context, ws *promote.Workspace, deps Deps) (string, error) {
	tg, err := pushOnce(ctx, ws, "", "", deps)
	return tg.where(), err
}

func pushOnce(ctx context.Context, ws *promote.Workspace, remote, branch string, deps Deps) (target, error) {
	tg, err := resolveTarget(ws, remote, branch, deps.getenv, "HEAD is detached; there is no branch to push")
	if err != nil {
		return tg, err
	}
	return tg, ws.Repo.Push(ctx, tg.remote, tg.local, tg.branch, tg.t)
}
