package registry

import (
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"regexp"
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
	// owners maps each secret, as it travels in an Authorization header
	// or a token request's form, to the registry hosts it was handed out
	// for (see checkPlain).
	owners map[string]map[string]bool
}

func newWatchedKeychain(inner authn.Keychain) *watchedKeychain {
	return &watchedKeychain{inner: inner, secrets: map[string]struct{}{}, hasCred: map[string]bool{},
		owners: map[string]map[string]bool{}}
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
	basic := ""
	if cfg.Username != "" || cfg.Password != "" {
		basic = base64.StdEncoding.EncodeToString([]byte(cfg.Username + ":" + cfg.Password))
	}
	for _, s := range []string{cfg.Password, cfg.Auth, cfg.IdentityToken, cfg.RegistryToken, basic} {
		if s == "" {
			continue
		}
		if len(s) >= minSecretLen {
			k.secrets[s] = struct{}{}
		}
		if k.owners[s] == nil {
			k.owners[s] = map[string]bool{}
		}
		k.owners[s][host] = true
	}
}

// remember adds a secret the client was handed otherwise (a token an
// API's login answered with) to those cut out of error text.
func (k *watchedKeychain) remember(secret string) {
	if len(secret) < minSecretLen {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.secrets[secret] = struct{}{}
}

// credentials reports whether the keychain was consulted for host and, if
// so, whether it returned credentials.
func (k *watchedKeychain) credentials(host string) (consulted, found bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	found, consulted = k.hasCred[host]
	return consulted, found
}

// authHeaderRE finds credentials as they travel in an Authorization header
// or a token answer, whoever issued them: a registry that echoes the
// header, or the bearer token it handed out, must not put them into our
// errors either.
var authHeaderRE = regexp.MustCompile(`(?i)\b(?:bearer\s+[A-Za-z0-9._~+/=-]{16,}|basic\s+[A-Za-z0-9+/=]{8,})|"(?:access_)?token"\s*:\s*"[^"]+`)

// redact replaces every secret seen so far in s, and anything that looks
// like a Basic or Bearer credential.
func (k *watchedKeychain) redact(s string) string {
	k.mu.Lock()
	for secret := range k.secrets {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	k.mu.Unlock()
	return authHeaderRE.ReplaceAllStringFunc(s, func(m string) string {
		scheme, cred := m, ""
		if f := strings.Fields(m); len(f) == 2 {
			scheme, cred = f[0], f[1]
		}
		switch {
		case strings.HasPrefix(m, `"`):
			i := strings.LastIndex(m, `"`)
			return m[:i+1] + "[redacted]"
		case strings.EqualFold(scheme, "basic"):
			// Only what decodes to "user:password" is a credential; the
			// word after "Basic" in prose is left alone.
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
			if err != nil || !strings.Contains(string(b), ":") {
				return m
			}
		}
		return scheme + " [redacted]"
	})
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

// settingsKeychain hands out the credentials configured in Settings: the
// username with the secret read, when asked, from the environment variable
// or file the settings name. It is consulted after the default keychain.
type settingsKeychain struct {
	set    *settingsSet
	getenv func(string) string
}

// CredentialError says why configured credentials could not be read. It
// names the variable or file, never a secret.
type CredentialError struct {
	Source string // "file:line" of the [[registry]] table
	Msg    string
}

func (e *CredentialError) Error() string {
	if e.Source == "" {
		return e.Msg
	}
	return e.Msg + " (registry settings at " + e.Source + ")"
}

// Resolve implements authn.Keychain.
func (k *settingsKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	host := r.RegistryStr()
	path := strings.TrimPrefix(strings.TrimPrefix(r.String(), host), "/")
	s := k.set.repo(host, path).cred
	if s == nil {
		return authn.Anonymous, nil
	}
	var secret string
	switch {
	case s.PasswordEnv != "":
		v, ok := lookupEnv(k.getenv, s.PasswordEnv)
		if !ok {
			return nil, &CredentialError{Source: s.Source, Msg: "password_env: environment variable " + s.PasswordEnv + " is not set"}
		}
		secret = v
	default:
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			var pe *fs.PathError
			msg := err.Error()
			if errors.As(err, &pe) {
				msg = pe.Err.Error()
			}
			return nil, &CredentialError{Source: s.Source, Msg: "password_file " + s.PasswordFile + ": " + msg}
		}
		secret = strings.TrimSpace(string(b))
	}
	if secret == "" {
		what := "password_env " + s.PasswordEnv
		if s.PasswordEnv == "" {
			what = "password_file " + s.PasswordFile
		}
		return nil, &CredentialError{Source: s.Source, Msg: what + " is empty"}
	}
	return &authn.Basic{Username: s.Username, Password: secret}, nil
}

// lookupEnv reads an environment variable through getenv, telling an
// unset variable from an empty one where getenv is os.Getenv.
func lookupEnv(getenv func(string) string, key string) (string, bool) {
	if getenv == nil {
		return os.LookupEnv(key)
	}
	v := getenv(key)
	return v, v != ""
}
