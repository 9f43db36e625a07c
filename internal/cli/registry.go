package cli

import (
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/git-laminar/git-laminar/internal/registry"
)

// newRegistry builds the registry client for a workspace's configuration.
func newRegistry(ws *promote.Workspace) *registry.Client {
	return registry.New(registry.Options{UserAgent: "git-laminar/" + Version})
}
