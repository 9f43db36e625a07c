package cli

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// sha256Scripts are the scripts run a second time with every repository
// made in the SHA-256 object format (GIT_DEFAULT_HASH=sha256 makes `git
// init` and `git clone` of a SHA-256 remote use it): one or more for each
// command a user runs, the pre-push hook under a real git push, the
// unattended run against a bare remote, retrying and with a lease, a
// command killed mid-commit and settled by the next, signed commits.
var sha256Scripts = []string{
	"script/bump.txtar", "script/status.txtar", "script/set.txtar", "script/rollback.txtar",
	"script/hold.txtar", "script/verify.txtar", "script/trust.txtar", "script/init.txtar",
	"script/run_push.txtar", "script/run_race.txtar", "script/hooks_install.txtar",
	"script/hooks_prepush.txtar", "script/commit_sign.txtar", "script/commit_hooks.txtar",
	"script/dirty.txtar", "script/subdir_worktree.txtar", "script/exec.txtar",
	"script/commit_hook_killed.txtar", "script/commit_sign_openpgp.txtar", "script/sparse_checkout.txtar",
	"script/odd_names.txtar", "pullrequest/run.txtar",
}

// TestScriptsSHA256 runs sha256Scripts in SHA-256 repositories. The
// scripts match full object names with $OID, 64 hex digits here.
func TestScriptsSHA256(t *testing.T) {
	out, err := exec.Command("git", "init", "-q", "--object-format=sha256", t.TempDir()).CombinedOutput()
	if err != nil {
		t.Skipf("git cannot make SHA-256 repositories: %v: %s", err, out)
	}
	files := make([]string, len(sha256Scripts))
	for i, f := range sha256Scripts {
		files[i] = filepath.Join("testdata", f)
	}
	p := scriptParams("", map[string]string{
		"GIT_DEFAULT_HASH": "sha256", "OID": "[0-9a-f]{64}", "FORGE": "github",
	})
	p.Files = files
	testscript.Run(t, p)
}
