package registry

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
)

// minSecretLen is the shortest secret cut out of error text. Shorter ones
// would mangle messages (a one-letter password matches everywhere) and
// reveal next to nothing.
const minSecretLen = 4

// watchedKeychain sits between ggcr and the user's keychain and remembers
// what the keychain handed out: every secret, so that error text can be
// scrubbed of it, and whether any credentials at all were found for a
// registry, so that a 401 can say "none found" or "rejected".
//
// Watching costs nothing extra: ggcr resolves the keychain once per
// repository anyway, and we never call the keychain ourselves.
type watchedKeychain struct {
	inner authn.Keychain

	mu      sync.Mutex
	secrets map[string]struct{}
	hasCred map[string]bool // registry host → credentials found
}

func newWatchedKeychain(inner authn.Keychain) *watchedKeychain {
	return &watchedKeychain{inner: inner, secrets: map[string]struct{}{}, hasCred: map[string]bool{}}
}

// Resolve implements authn.Keychain.
func (k *watchedKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

// ResolveContext implements authn.ContextKeychain, passing ctx on to
// keychains (credential helpers) that take one.
func (k *watchedKeychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	a, err := authn.Resolve(ctx, k.inner, r)
	if err != nil {
		return nil, err
	}
	if a == nil || a == authn.Anonymous {
		// ggcr compares against authn.Anonymous by identity to decide
		// whether to send credentials at all, so it must not be wrapped.
		k.mu.Lock()
		if _, seen := k.hasCred[r.RegistryStr()]; !seen {
			k.hasCred[r.RegistryStr()] = false
		}
		k.mu.Unlock()
		return authn.Anonymous, nil
	}
	return &watchedAuth{inner: a, k: k, host: r.RegistryStr()}, nil
}

func (k *watchedKeychain) record(host string, cfg *authn.AuthConfig) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if *cfg != (authn.AuthConfig{}) {
		k.hasCred[host] = true
	} else if _, seen := k.hasCred[host]; !seen {
		k.hasCred[host] = false
	}
	for _, s := range []string{
		cfg.Password, cfg.Auth, cfg.IdentityToken, cfg.RegistryToken,
		base64.StdEncoding.EncodeToString([]byte(cfg.Username + ":" + cfg.Password)),
	} {
		if len(s) >= minSecretLen {
			k.secrets[s] = struct{}{}
		}
	}
}

// credentials reports whether the keychain was consulted for host and, if
// so, whether it returned credentials.
func (k *watchedKeychain) credentials(host string) (consulted, found bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	found, consulted = k.hasCred[host]
	return consulted, found
}

// redact replaces every secret seen so far in s.
func (k *watchedKeychain) redact(s string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	for secret := range k.secrets {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	return s
}

type watchedAuth struct {
	inner authn.Authenticator
	k     *watchedKeychain
	host  string
}

func (a *watchedAuth) Authorization() (*authn.AuthConfig, error) {
	return a.AuthorizationContext(context.Background())
}

func (a *watchedAuth) AuthorizationContext(ctx context.Context) (*authn.AuthConfig, error) {
	cfg, err := authn.Authorization(ctx, a.inner)
	if cfg != nil {
		a.k.record(a.host, cfg)
	}
	return cfg, err
}
