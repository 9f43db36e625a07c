package app

import (
	"context"
	"sort"

	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/promote"
)

// ManagedImage is an image repository a clone's rules manage.
type ManagedImage struct {
	// Image is the canonical name ("registry.example.com/acme/app",
	// "docker.io/library/nginx"); Repo the repository as the registry's
	// API names it ("index.docker.io/library/nginx").
	Image string
	Repo  string
	// Rules are the rules that manage it, in file order; Files the files
	// its managed references are in, sorted.
	Rules []string
	Files []string
}

// ReferencesOptions say where a clone's configuration is.
type ReferencesOptions struct {
	// ConfigPath is read instead of laminar.toml at the root.
	ConfigPath string
	// Warn is told of tracked files the scan skips; nil: nothing.
	Warn func(string)
}

// References scans the clone around dir and returns the image
// repositories its laminar.toml rules manage, sorted by Image: what a
// registry's "image X has a new tag" concerns. References no rule manages
// are left out. It reads the working tree as it is, takes no lock and
// asks no registry. A clone without laminar.toml is an error wrapping
// config.ErrNotFound.
func References(ctx context.Context, dir string, opt ReferencesOptions) ([]ManagedImage, error) {
	ws, err := promote.Open(dir, promote.OpenOptions{ConfigPath: opt.ConfigPath, Warn: opt.Warn})
	if err != nil {
		return nil, err
	}
	refs, err := ws.Scan(ctx)
	if err != nil {
		return nil, err
	}
	byImage := map[string]*ManagedImage{}
	seen := map[[3]string]bool{}
	for _, r := range refs {
		if !r.Managed() {
			continue
		}
		im := r.Ref.Image()
		m := byImage[im]
		if m == nil {
			m = &ManagedImage{Image: im, Repo: r.Ref.Repo()}
			byImage[im] = m
		}
		if k := [3]string{im, "rule", r.Rule}; !seen[k] {
			seen[k] = true
			m.Rules = append(m.Rules, r.Rule)
		}
		if k := [3]string{im, "file", r.Path}; !seen[k] {
			seen[k] = true
			m.Files = append(m.Files, r.Path)
		}
	}
	out := make([]ManagedImage, 0, len(byImage))
	for _, m := range byImage {
		sort.Strings(m.Files)
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Image < out[j].Image })
	return out, nil
}

// Is reports whether name names m's repository: its canonical name, its
// registry API name or any spelling of them ("nginx",
// "index.docker.io/library/nginx"), with or without a tag or digest.
func (m ManagedImage) Is(name string) bool {
	if name == m.Image || name == m.Repo {
		return true
	}
	r, err := imageref.Parse(name)
	return err == nil && r.Repo() == m.Repo
}
