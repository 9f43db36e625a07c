// Package execaction runs the exec actions of [[update]] rules: commands
// that re-render what is generated from the edited files, run after the
// edits and before the commit. It finds what they changed or created, and
// puts every file back when one fails. Whether they may run at all (trust)
// is the caller's to decide first.
package execaction

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/edit"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/plan"
	"github.com/git-laminar/git-laminar/internal/printable"
	"github.com/git-laminar/git-laminar/internal/trust"
)

// Exec actions are commands of an [[update]] rule that run after the edits
// and before the commit: they re-render what is generated from the edited
// files (Helm output, jsonnet, kustomize builds). Each command runs once
// per run in which its rule promoted something, as `sh -c <command>` at the
// repository root. The command string is the configuration's own; the
// promotions reach it only through the environment (the Env constants), never
// through the command text, so no tag or image name is ever read by a
// shell as code.
//
// laminar.toml is versioned, so whoever can push can change its commands
// and the scripts they run: they run only when the local user has trusted
// the file and every file they run as they are now (see package trust). The files the commands change or create are committed with the
// edits; if one fails, every file is put back.

// Environment variables an exec action receives. A contract.
const (
	EnvRule           = "LAMINAR_RULE"            // the rule's name ("#2" when it has none)
	EnvImage          = "LAMINAR_IMAGE"           // image of the rule's first promotion
	EnvFrom           = "LAMINAR_FROM"            // its tag before
	EnvTo             = "LAMINAR_TO"              // its new tag
	EnvDigest         = "LAMINAR_DIGEST"          // digest of the new tag, when known
	EnvCount          = "LAMINAR_COUNT"           // number of promotions of the rule
	EnvPromotionsFile = "LAMINAR_PROMOTIONS_FILE" // "<image> <from> -> <to>" per line
	EnvPromotionsJSON = "LAMINAR_PROMOTIONS_JSON" // the same as a JSON array
	EnvRepoRoot       = "LAMINAR_REPO_ROOT"       // top of the working tree (the working directory)
	EnvConfig         = "LAMINAR_CONFIG_FILE"     // the laminar.toml the commands come from
)

// Run is one exec action that ran.
type Run struct {
	Rule     string
	Command  string
	Duration time.Duration
	Output   []byte // standard output and error, interleaved (the last 64 KiB)
}

// Error is an exec action that failed: it exited non-zero, could not
// start or ran out of time.
type Error struct {
	Rule     string
	Command  string
	Err      error
	TimedOut time.Duration // the limit, when it was reached
	Output   []byte
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "exec action %q of rule %s ", e.Command, e.Rule)
	if e.TimedOut > 0 {
		fmt.Fprintf(&b, "did not finish within %s (exec_timeout)", e.TimedOut)
	} else {
		fmt.Fprintf(&b, "failed: %v", e.Err)
	}
	if out := strings.TrimRight(string(e.Output), "\n"); out != "" {
		// Indented and escaped line by line: the output is the command's,
		// and may quote anything (a manifest, a server's answer); it must
		// neither act on the terminal nor pass for a line of ours.
		b.WriteString("; its output:")
		for _, line := range strings.Split(out, "\n") {
			b.WriteString("\n    " + printable.String(strings.TrimSuffix(line, "\r")))
		}
	} else {
		b.WriteString(" (no output)")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ChangeError is a change of the exec actions that cannot be committed:
// to a file with the user's uncommitted changes, a deletion, a symlink.
type ChangeError struct {
	Path    string
	Problem string // "changed %s, which has uncommitted changes"
}

func (e *ChangeError) Error() string {
	return "the exec actions " + fmt.Sprintf(e.Problem, e.Path)
}

func changeErr(path, problem string) error { return &ChangeError{Path: path, Problem: problem} }

const (
	problemDirty   = "changed %s, which has uncommitted changes (commit or stash them first)"
	problemDeleted = "deleted %s; only changed and new files are committed"
	problemKind    = "made %s something other than a regular file"
)

// Group is one rule's commands and the promotions they see.
type Group struct {
	Rule       string // the rule's label, as promotions name it
	Update     config.Update
	Promotions []plan.Promotion
}

// Groups lists, in the order of the rules (updates, as in laminar.toml),
// the rules with exec actions that promoted something in p.
func Groups(updates []config.Update, p plan.Plan) []Group {
	var out []Group
	for i, u := range updates {
		if len(u.Exec) == 0 {
			continue
		}
		label := trust.RuleLabel(u, i)
		g := Group{Rule: label, Update: u}
		for _, pr := range p.Promotions {
			if pr.Rule == label {
				g.Promotions = append(g.Promotions, pr)
			}
		}
		if len(g.Promotions) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// Commands returns the exec actions the groups run, as "rule: command"
// lines.
func Commands(groups []Group) []string {
	var out []string
	for _, g := range groups {
		for _, c := range g.Update.Exec {
			out = append(out, g.Rule+": "+c)
		}
	}
	return out
}

// Outcome is what the exec actions did to the working tree.
type Outcome struct {
	Runs     []Run
	Changed  []string // tracked files they changed (besides the files we edited)
	Created  []string // files they created (untracked before)
	Rewrote  []string // files we edited that they changed again
	rollback *edit.Backup
}

// Paths are the files the exec actions changed or created, sorted.
func (o *Outcome) Paths() []string {
	if o == nil {
		return nil
	}
	out := append(append(append([]string(nil), o.Changed...), o.Created...), o.Rewrote...)
	sort.Strings(out)
	return out
}

// Restore puts back every file the exec actions touched (not the files we
// edited: edit.Applied restores those).
func (o *Outcome) Restore() error {
	if o == nil || o.rollback == nil {
		return nil
	}
	return o.rollback.Restore()
}

// Execute runs the groups' exec actions in the working tree of repo after
// the edits were written (ours are the files written, with their new
// content); cfg is the configuration they come from. On error every file
// the actions touched is already restored; the caller restores its own.
// No groups: nothing runs and the Outcome is nil.
//
// txn journals the commit: while the actions run it holds the state of
// every dirty and untracked file from before, so that after a kill the
// files they may have changed are known (and refused, not guessed at);
// once they finished, the files they changed or created, so that the
// next run can undo them exactly.
func Execute(ctx context.Context, repo *gitrepo.Repo, cfg *config.Config, groups []Group, ours []edit.Change, txn *gitrepo.Txn) (*Outcome, error) {
	if len(groups) == 0 {
		return nil, nil
	}
	root := repo.Root
	mine := map[string]bool{}
	for _, c := range ours {
		mine[c.Path] = true
	}

	// What the working tree holds before: the state to return to.
	tracked, err := repo.TrackedFiles()
	if err != nil {
		return nil, err
	}
	trackedPaths := make([]string, len(tracked))
	modes := map[string]fs.FileMode{}
	for i, f := range tracked {
		trackedPaths[i] = f.Path
		modes[f.Path] = 0o644
		if f.Mode == "100755" {
			modes[f.Path] = 0o755
		}
	}
	dirtyBefore, err := repo.Dirty(trackedPaths)
	if err != nil {
		return nil, fmt.Errorf("before the exec actions: %w", err)
	}
	untrackedBefore, err := repo.UntrackedFiles()
	if err != nil {
		return nil, fmt.Errorf("before the exec actions: %w", err)
	}
	before := edit.NewBackup(root) // the user's files that are not in HEAD's state
	wasDirty := map[string]bool{}
	for _, pth := range dirtyBefore {
		if !mine[pth] {
			wasDirty[pth] = true
			if err := before.Save(pth); err != nil {
				return nil, fmt.Errorf("before the exec actions: %w", err)
			}
		}
	}
	wasUntracked := map[string]bool{}
	for _, pth := range untrackedBefore {
		wasUntracked[pth] = true
		if err := before.Save(pth); err != nil {
			return nil, fmt.Errorf("before the exec actions: %w", err)
		}
	}
	for _, pth := range append(trackedPaths, untrackedBefore...) {
		before.KnowDir(path.Dir(pth))
	}
	watch := map[string]string{}
	for _, pth := range append(dirtyBefore, untrackedBefore...) {
		if !mine[pth] {
			watch[pth] = fileBlob(repo, filepath.Join(root, filepath.FromSlash(pth)))
		}
	}
	if err := txn.Watch(watch); err != nil {
		return nil, err
	}

	out := &Outcome{}
	runErr := runCommands(ctx, repo.Root, cfg, groups, out)

	// What they did, whether they succeeded or not.
	rollback := edit.NewBackup(root)
	for _, pth := range append(trackedPaths, untrackedBefore...) {
		rollback.KnowDir(path.Dir(pth))
	}
	var problems []error
	headBlob := map[string]string{}
	dirtyAfter, err := repo.Dirty(trackedPaths)
	if err != nil {
		problems = append(problems, err)
	}
	for _, pth := range dirtyAfter {
		switch {
		case mine[pth]:
			continue
		case wasDirty[pth]:
			if !before.Same(pth) {
				problems = append(problems, changeErr(pth, problemDirty))
			}
			continue
		}
		head, err := repo.ReadFile("HEAD", pth)
		if err != nil {
			problems = append(problems, fmt.Errorf("reading %s from HEAD to restore it: %w", pth, err))
			continue
		}
		rollback.SaveContent(pth, head, modes[pth])
		headBlob[pth] = repo.BlobHash(head)
		full := filepath.Join(root, filepath.FromSlash(pth))
		if fi, err := os.Lstat(full); err != nil {
			problems = append(problems, changeErr(pth, problemDeleted))
		} else if !fi.Mode().IsRegular() {
			problems = append(problems, changeErr(pth, problemKind))
		} else {
			out.Changed = append(out.Changed, pth)
		}
	}
	for pth := range wasDirty {
		if !before.Same(pth) && !slices.Contains(dirtyAfter, pth) {
			// Changed back to the committed state: also a change of the user's work.
			problems = append(problems, changeErr(pth, problemDirty))
		}
	}
	untrackedAfter, err := repo.UntrackedFiles()
	if err != nil {
		problems = append(problems, err)
	}
	for _, pth := range untrackedAfter {
		if wasUntracked[pth] && before.Same(pth) {
			continue
		}
		if !wasUntracked[pth] {
			rollback.SaveMissing(pth)
		}
		full := filepath.Join(root, filepath.FromSlash(pth))
		if fi, err := os.Lstat(full); err == nil && !fi.Mode().IsRegular() {
			problems = append(problems, changeErr(pth, problemKind))
			continue
		}
		out.Created = append(out.Created, pth)
	}
	for _, c := range ours {
		full := filepath.Join(root, filepath.FromSlash(c.Path))
		if data, err := os.ReadFile(full); err != nil {
			problems = append(problems, changeErr(c.Path, problemDeleted))
		} else if !bytes.Equal(data, c.New) {
			out.Rewrote = append(out.Rewrote, c.Path)
		}
	}
	// The user's own files (uncommitted changes, untracked files) go back
	// to what they held, whatever happened to them.
	for pth := range wasDirty {
		if !before.Same(pth) {
			rollback.CopyFrom(before, pth)
		}
	}
	for pth := range wasUntracked {
		if !before.Same(pth) {
			rollback.CopyFrom(before, pth)
		}
	}
	out.rollback = rollback
	sort.Strings(out.Changed)
	sort.Strings(out.Created)

	if runErr == nil && len(problems) == 0 {
		var files []gitrepo.JournalFile
		for _, pth := range out.Changed {
			files = append(files, gitrepo.JournalFile{Path: pth, Old: headBlob[pth], New: fileBlob(repo, filepath.Join(root, filepath.FromSlash(pth)))})
		}
		for _, pth := range append(append([]string(nil), out.Created...), out.Rewrote...) {
			files = append(files, gitrepo.JournalFile{Path: pth, New: fileBlob(repo, filepath.Join(root, filepath.FromSlash(pth)))})
		}
		if err := txn.Watched(files); err != nil {
			problems = append(problems, err)
		}
	}
	if runErr != nil || len(problems) > 0 {
		err := errors.Join(append([]error{runErr}, problems...)...)
		if rerr := rollback.Restore(); rerr != nil {
			return nil, errors.Join(err, rerr)
		}
		return nil, err
	}
	return out, nil
}

// fileBlob is the blob name of the file's content, "" when it cannot be
// read: a journal entry that matches no content, so Recover refuses the
// path rather than guess.
func fileBlob(repo *gitrepo.Repo, full string) string {
	data, err := os.ReadFile(full)
	if err != nil {
		return ""
	}
	return repo.BlobHash(data)
}

// RunCommands runs every group's commands in order at root, stopping at
// the first failure, and returns those that ran. Unlike Execute it does not
// watch what they change, nor put anything back.
func RunCommands(ctx context.Context, root string, cfg *config.Config, groups []Group) ([]Run, error) {
	out := &Outcome{}
	err := runCommands(ctx, root, cfg, groups, out)
	return out.Runs, err
}

// runCommands runs every group's commands in order, stopping at the first
// failure.
func runCommands(ctx context.Context, root string, cfg *config.Config, groups []Group, out *Outcome) error {
	tmp, err := os.MkdirTemp("", "laminar-exec-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for gi, g := range groups {
		env, err := execEnv(root, cfg, g, filepath.Join(tmp, fmt.Sprintf("rule-%d", gi)))
		if err != nil {
			return err
		}
		timeout := g.Update.ExecTimeout
		if timeout <= 0 {
			timeout = config.DefaultExecTimeout
		}
		for _, command := range g.Update.Exec {
			if err := ctx.Err(); err != nil {
				return err
			}
			run, err := runOne(ctx, root, command, env, timeout)
			run.Rule = g.Rule
			out.Runs = append(out.Runs, run)
			if err != nil {
				err.Rule = g.Rule
				return err
			}
		}
	}
	return nil
}

// execEnv is the environment of a group's commands: the process's own,
// without any LAMINAR_ variable it may hold and without the variables git
// laminar reads secrets from (see config.SecretEnv), plus the promotions.
func execEnv(root string, cfg *config.Config, g Group, prefix string) ([]string, error) {
	// The user-level file names the variables of registry passwords. A
	// broken one stops the commands rather than hand them a secret.
	user, err := config.LoadUser(config.UserPath(os.Getenv))
	if err != nil {
		return nil, fmt.Errorf("finding the variables to keep from exec actions: %w", err)
	}
	secret := config.SecretEnv(cfg, user)
	var lines strings.Builder
	type jsonPromotion struct {
		Image  string   `json:"image"`
		From   string   `json:"from"`
		To     string   `json:"to"`
		Digest string   `json:"digest,omitempty"`
		Rule   string   `json:"rule,omitempty"`
		Files  []string `json:"files"`
	}
	list := []jsonPromotion{}
	for _, pr := range g.Promotions {
		fmt.Fprintf(&lines, "%s %s -> %s\n", pr.Image, pr.From, pr.To)
		list = append(list, jsonPromotion{pr.Image, pr.From, pr.To, pr.Digest, pr.Rule, pr.Paths})
	}
	js, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, err
	}
	txtFile, jsonFile := prefix+".txt", prefix+".json"
	if err := os.WriteFile(txtFile, []byte(lines.String()), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(jsonFile, append(js, '\n'), 0o600); err != nil {
		return nil, err
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(kv, "LAMINAR_") && !slices.Contains(secret, name) {
			env = append(env, kv)
		}
	}
	first := g.Promotions[0]
	cfgPath, _ := filepath.Abs(cfg.Path)
	return append(env,
		EnvRule+"="+g.Rule,
		EnvImage+"="+first.Image,
		EnvFrom+"="+first.From,
		EnvTo+"="+first.To,
		EnvDigest+"="+first.Digest,
		EnvCount+"="+fmt.Sprint(len(g.Promotions)),
		EnvPromotionsFile+"="+txtFile,
		EnvPromotionsJSON+"="+jsonFile,
		EnvRepoRoot+"="+root,
		EnvConfig+"="+cfgPath,
	), nil
}

const maxExecOutput = 64 << 10

// tailBuffer keeps the last maxExecOutput bytes written to it.
type tailBuffer struct {
	buf     []byte
	dropped bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > maxExecOutput {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-maxExecOutput:]...)
		t.dropped = true
	}
	return len(p), nil
}

func (t *tailBuffer) bytes() []byte {
	if t.dropped {
		return append([]byte("[...]\n"), t.buf...)
	}
	return t.buf
}

// runOne runs one command with sh -c at root. Its standard input is empty;
// its output is kept. When the time is up, its whole process group is
// killed.
func runOne(ctx context.Context, root, command string, env []string, timeout time.Duration) (Run, *Error) {
	run := Run{Command: command}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var output tailBuffer
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir = root
	cmd.Env = env
	cmd.Stdout = &output
	cmd.Stderr = &output
	setProcessGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	run.Duration = time.Since(start)
	run.Output = output.bytes()
	if err == nil {
		return run, nil
	}
	e := &Error{Command: command, Err: err, Output: run.Output}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		e.TimedOut = timeout
	} else if errors.Is(ctx.Err(), context.Canceled) {
		e.Err = ctx.Err()
	}
	return run, e
}

// Committed are the files to commit besides the edited ones: those the
// actions changed or created.
func (o *Outcome) Committed() []string {
	if o == nil {
		return nil
	}
	return append(append([]string(nil), o.Changed...), o.Created...)
}

// New are the files the actions created.
func (o *Outcome) New() []string {
	if o == nil {
		return nil
	}
	return o.Created
}

// Ran are the actions that ran.
func (o *Outcome) Ran() []Run {
	if o == nil {
		return nil
	}
	return o.Runs
}
