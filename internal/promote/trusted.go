package promote

import (
	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/plan"
	"github.com/git-laminar/git-laminar/internal/trust"
	"github.com/git-laminar/git-laminar/internal/truststore"
)

// The trust record lives in package truststore; these names keep the
// workspace's callers (resolve.go among them) as they were.
type (
	// TrustStatus is truststore.Status.
	TrustStatus = truststore.Status
	// UntrustedError is truststore.UntrustedError.
	UntrustedError = truststore.UntrustedError
)

// trustStore is the trust record of this clone for this configuration.
func (w *Workspace) trustStore() truststore.Store {
	return truststore.Store{Repo: w.Repo, Config: w.Config}
}

// TrustStatus reads the covered files and the trusted state.
func (w *Workspace) TrustStatus() (*TrustStatus, error) { return w.trustStore().Status() }

// Trusted reports whether the configuration and what its exec actions run
// are as the local user trusted them.
func (w *Workspace) Trusted() (bool, error) { return w.trustStore().Trusted() }

// Trust records the configuration and its covered files as they are now;
// false when they were trusted already.
func (w *Workspace) Trust() (bool, error) { return w.trustStore().Trust() }

// TrustAs records st, the state the user was shown, as trusted; false when
// it was trusted already.
func (w *Workspace) TrustAs(st *TrustStatus) (bool, error) { return w.trustStore().TrustAs(st) }

// Revoke removes every trust recorded in this repository; it returns how
// many records it removed.
func (w *Workspace) Revoke() (int, error) { return w.trustStore().Revoke() }

// CheckTrust returns an *UntrustedError when committing p would run exec
// actions that are not trusted, and nil otherwise.
func (w *Workspace) CheckTrust(p plan.Plan) error {
	cmds := w.ExecCommands(p)
	if len(cmds) == 0 {
		return nil
	}
	st, err := w.TrustStatus()
	if err != nil {
		return err
	}
	return w.trustStore().Check(cmds, st)
}

func (w *Workspace) checkTrust(p plan.Plan, st *TrustStatus) error {
	return w.trustStore().Check(w.ExecCommands(p), st)
}

// advanceTrust keeps the trust across git-laminar's own commit (see
// truststore.Store.Advance).
func (w *Workspace) advanceTrust(before *TrustStatus, committed []string) error {
	return w.trustStore().Advance(before, committed)
}

// ruleName is how promotions, logs and messages name the i-th rule.
func ruleName(u config.Update, i int) string { return trust.RuleLabel(u, i) }
