package registry

import "github.com/google/go-containerregistry/pkg/authn"

// Unavailable returns a client whose every request fails with err. A command
// that found the registry settings broken (a bad user-level file, say) can
// still run its other steps and report err per image, by name, instead of
// reaching a registry with the wrong credentials.
func Unavailable(err error) *Client {
	return New(Options{Keychain: failingKeychain{err}})
}

type failingKeychain struct{ err error }

func (k failingKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return nil, k.err }
