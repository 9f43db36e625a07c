package cli

import (
	"github.com/git-laminar/git-laminar/internal/app"
	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/urfave/cli/v2"
)

// Environment variables that override [cache] in either configuration
// file (see app.CacheDirEnv).
const (
	CacheDirEnv = app.CacheDirEnv
	CacheTTLEnv = app.CacheTTLEnv
)

// registrySetup is what the registry client is built from besides the
// workspace: the environment and the command's flags.
type registrySetup struct {
	// Getenv reads the environment (default os.Getenv).
	Getenv func(string) string
	// Refresh lists every repository again, whatever the cache holds
	// (--refresh).
	Refresh bool
}

// openRegistry builds the registry client for a workspace (see
// app.RegistryOptions).
func openRegistry(ws *promote.Workspace, rs registrySetup) (*registry.Client, error) {
	opt, err := registryOptions(ws.Config, rs)
	if err != nil {
		return nil, err
	}
	return registry.New(opt), nil
}

// registryOptions turns the configuration into client options.
func registryOptions(cfg *config.Config, rs registrySetup) (registry.Options, error) {
	return app.RegistryOptions(cfg, app.RegistrySetup{Getenv: rs.Getenv, Refresh: rs.Refresh, UserAgent: userAgent()})
}

// userAgent is what the registries are told is asking.
func userAgent() string { return "git-laminar/" + Version }

// newRegistry builds the registry client for a workspace's configuration,
// reading the environment of the process. A broken user-level file makes
// every registry operation fail with its message; commands with a --refresh
// flag use registryFor, which reports it at once.
func newRegistry(ws *promote.Workspace) *registry.Client {
	c, err := openRegistry(ws, registrySetup{})
	if err != nil {
		return registry.Unavailable(err)
	}
	return c
}

// refreshFlag makes a command list every repository again, whatever the
// cache holds.
var refreshFlag = &cli.BoolFlag{Name: "refresh", Usage: "list tags again even where the cache is fresh"}

// registryFor builds the client for a command, honouring its --refresh flag.
func registryFor(c *cli.Context, s Streams, ws *promote.Workspace) (*registry.Client, error) {
	reg, err := openRegistry(ws, registrySetup{Getenv: s.Getenv, Refresh: c.Bool("refresh")})
	if err != nil {
		return nil, exit(ExitError, err)
	}
	return reg, nil
}
