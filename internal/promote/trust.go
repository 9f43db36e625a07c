package promote

import (
	"fmt"

	"github.com/git-laminar/git-laminar/internal/plan"
)

// TrustKey is the local git configuration key that records the hashes of
// the laminar.toml files whose exec actions the user trusts. It lives in
// the repository's own config file, which no push can change.
const TrustKey = "laminar.trusted"

// UntrustedError refuses to run exec actions from a configuration the local
// user has not trusted.
type UntrustedError struct {
	Config   string   // the file
	Hash     string   // its hash, as `git laminar trust` would record it
	Commands []string // "rule: command", the actions that would run
}

func (e *UntrustedError) Error() string {
	return fmt.Sprintf("%s has exec actions and this exact version of it is not trusted here; "+
		"nothing was changed. Review its exec commands, then run `git laminar trust` "+
		"(laminar.toml is versioned: whoever can push could change the commands)", e.Config)
}

// Trusted reports whether the local user trusts this exact configuration
// file (its hash is recorded under TrustKey).
func (w *Workspace) Trusted() (bool, error) {
	vals, err := w.Repo.LocalConfig(TrustKey)
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", TrustKey, err)
	}
	for _, v := range vals {
		if v == w.Config.Hash {
			return true, nil
		}
	}
	return false, nil
}

// CheckTrust returns an *UntrustedError when committing p would run exec
// actions from a configuration that is not trusted, and nil otherwise.
func (w *Workspace) CheckTrust(p plan.Plan) error {
	cmds := w.ExecCommands(p)
	if len(cmds) == 0 {
		return nil
	}
	ok, err := w.Trusted()
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	return &UntrustedError{Config: w.Config.Path, Hash: w.Config.Hash, Commands: cmds}
}

// Trust records the configuration's hash as trusted, replacing the hashes
// recorded earlier for other versions of it. It reports whether the hash
// was new.
func (w *Workspace) Trust() (bool, error) {
	ok, err := w.Trusted()
	if err != nil || ok {
		return false, err
	}
	if _, err := w.Repo.UnsetLocalConfig(TrustKey, nil); err != nil {
		return false, err
	}
	if err := w.Repo.AddLocalConfig(TrustKey, w.Config.Hash); err != nil {
		return false, err
	}
	return true, nil
}

// Revoke removes every trust recorded in this repository; it returns how
// many hashes it removed.
func (w *Workspace) Revoke() (int, error) {
	return w.Repo.UnsetLocalConfig(TrustKey, nil)
}
