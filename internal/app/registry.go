package app

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/registry"
)

// Environment variables that override [cache] in either configuration
// file: where the registry cache lives, and how long tag lists are reused
// ("0": not across runs), e.g. for one cron job or a test.
const (
	CacheDirEnv = "LAMINAR_CACHE_DIR"
	CacheTTLEnv = "LAMINAR_CACHE_TTL"
)

// RegistrySetup is what a registry client is built from besides a clone's
// configuration.
type RegistrySetup struct {
	// Getenv reads the environment: XDG_CONFIG_HOME and HOME for the
	// user-level file, LAMINAR_CACHE_DIR and LAMINAR_CACHE_TTL, and the
	// variables named by password_env. Default os.Getenv.
	Getenv func(string) string
	// Refresh lists every repository again, whatever the cache holds.
	Refresh bool
	// UserAgent is sent with every request; empty: the registry package's.
	UserAgent string
}

// FromConfig is a RegistrySource that builds a client per configuration
// with RegistryOptions.
func FromConfig(rs RegistrySetup) RegistrySource {
	return func(cfg *config.Config) (*registry.Client, error) {
		opt, err := RegistryOptions(cfg, rs)
		if err != nil {
			return nil, err
		}
		return registry.New(opt), nil
	}
}

// RegistryOptions turns a configuration (nil: none) into client options:
// per-registry settings from the user-level file (first, so they win) and
// from laminar.toml, the cache from LAMINAR_CACHE_DIR or [cache]
// (user-level first) or the user's cache directory. An error is a problem
// in the user-level file, naming file, line and key, or in
// LAMINAR_CACHE_TTL.
func RegistryOptions(cfg *config.Config, rs RegistrySetup) (registry.Options, error) {
	getenv := rs.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	user, err := config.LoadUser(config.UserPath(getenv))
	if err != nil {
		return registry.Options{}, err
	}
	opt := registry.Options{
		UserAgent: rs.UserAgent,
		Getenv:    getenv,
		Refresh:   rs.Refresh,
	}
	for _, a := range user.Registries {
		opt.Registries = append(opt.Registries, registry.Settings(a))
	}
	if cfg != nil {
		for _, r := range cfg.Registries {
			opt.Registries = append(opt.Registries, registry.Settings(r.Access))
		}
	}

	var project config.Cache
	if cfg != nil {
		project = cfg.Cache
	}
	switch {
	case getenv(CacheDirEnv) != "":
		opt.CacheDir = getenv(CacheDirEnv)
	case user.Cache.Dir != "":
		opt.CacheDir = user.Cache.Dir
	case project.Dir != "":
		opt.CacheDir = project.Dir
	default:
		// No cache directory (no HOME): no cache on disk, which only costs
		// requests.
		if d, err := os.UserCacheDir(); err == nil {
			opt.CacheDir = filepath.Join(d, "git-laminar")
		}
	}
	ttl := user.Cache.TTL
	if ttl == nil {
		ttl = project.TTL
	}
	if v := getenv(CacheTTLEnv); v != "" {
		d, err := config.ParseAge(v)
		if v == "0" {
			d, err = 0, nil
		}
		if err != nil {
			return registry.Options{}, fmt.Errorf("%s: %v", CacheTTLEnv, err)
		}
		ttl = &d
	}
	if ttl != nil {
		opt.CacheTTL = *ttl
		if *ttl == 0 {
			opt.CacheTTL = -1 // ttl = "0": tag lists are never reused
		}
	}
	tagTTL := user.Cache.TagTTL
	if tagTTL == nil {
		tagTTL = project.TagTTL
	}
	if tagTTL != nil {
		opt.TagTTL = *tagTTL
		if *tagTTL == 0 {
			opt.TagTTL = -1 // tag_ttl = "0": every run asks again
		}
	}
	return opt, nil
}
