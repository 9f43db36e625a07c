package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// genHistory puts n commits on top of HEAD of the manifests repository
// with git fast-import, the way years of unattended promotions would: most
// commits promote one image (Laminar-Promote, -Digest, -Rule), one in ten
// is a plain commit, one in a hundred is the merge of a side branch, and
// now and then an image is held and later released. The tree never
// changes, so the working tree stays clean. It returns how many commits it
// wrote, merges and side commits included.
func genHistory(ctx context.Context, r *runner, n int, images []string, seed uint64) (int, error) {
	head, err := r.gitOut(ctx, "rev-parse", "HEAD")
	if err != nil {
		return 0, err
	}
	branch, err := r.gitOut(ctx, "symbolic-ref", "HEAD")
	if err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, "git", "fast-import", "--quiet", "--force")
	cmd.Dir, cmd.Env = r.repo, r.env
	in, err := cmd.StdinPipe()
	if err != nil {
		return 0, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("git fast-import: %w", err)
	}
	written, werr := writeHistory(in, strings.TrimSpace(branch), strings.TrimSpace(head), n, images, seed)
	in.Close()
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("git fast-import: %v: %s", err, stderr.String())
	}
	return written, werr
}

func writeHistory(out io.Writer, branch, head string, n int, images []string, seed uint64) (int, error) {
	w := bufio.NewWriterSize(out, 1<<20)
	rng := rand.New(rand.NewPCG(seed, 0x1a3))
	when := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	version := make([]int, len(images))
	held := map[int]bool{}
	prev := head // the mainline: a commit id, then a mark
	written := 0
	commit := func(ref, from string, merge []string, msg string) string {
		written++
		when += 60 + rng.Int64N(600)
		mark := fmt.Sprintf(":%d", written)
		fmt.Fprintf(w, "commit %s\nmark %s\n", ref, mark)
		fmt.Fprintf(w, "author Bench <bench@example.com> %d +0000\ncommitter Bench <bench@example.com> %d +0000\n", when, when)
		fmt.Fprintf(w, "data %d\n%s\n", len(msg), msg)
		fmt.Fprintf(w, "from %s\n", from)
		for _, m := range merge {
			fmt.Fprintf(w, "merge %s\n", m)
		}
		w.WriteString("\n")
		return mark
	}
	promote := func(i int) string {
		img := images[i]
		from := fmt.Sprintf("v1.%d.0", version[i])
		version[i]++
		to := fmt.Sprintf("v1.%d.0", version[i])
		return fmt.Sprintf("Promote %s to %s\n\nLaminar-Promote: %s %s -> %s\nLaminar-Digest: %s sha256:%064x\nLaminar-Rule: %s prod\n",
			img[strings.LastIndexByte(img, '/')+1:], to, img, from, to, img, rng.Uint64(), img)
	}
	for written < n {
		i := rng.IntN(len(images))
		switch k := written % 100; {
		case k == 50 && written+2 <= n:
			// A side branch merged back: a pull request.
			side := commit("refs/heads/bench-side", prev, nil, promote(i))
			prev = commit(branch, prev, []string{side}, "Merge pull request from bench-side\n")
		case k%10 == 3:
			prev = commit(branch, prev, nil, "Update the manifests by hand\n")
		case k == 77 && !held[i]:
			held[i] = true
			prev = commit(branch, prev, nil, fmt.Sprintf("Hold %s\n\nLaminar-Hold: %s\n", images[i], images[i]))
		case k == 91 && len(held) > 0:
			for j := range held {
				delete(held, j)
				prev = commit(branch, prev, nil, fmt.Sprintf("Release %s\n\nLaminar-Release: %s\n", images[j], images[j]))
				break
			}
		default:
			prev = commit(branch, prev, nil, promote(i))
		}
	}
	fmt.Fprintf(w, "reset refs/heads/bench-side\nfrom 0000000000000000000000000000000000000000\n\n")
	return written, w.Flush()
}

// runHistory measures the commands that read history on a repository of
// o.history commits, next to git log printing the same trailers.
func runHistory(ctx context.Context, o options, r *runner, res *result, images []string) error {
	start := time.Now()
	n, err := genHistory(ctx, r, o.history, images, o.seed)
	if err != nil {
		return fmt.Errorf("generating history: %w", err)
	}
	res.History = n
	logf("wrote %d commits with git fast-import in %s", n, time.Since(start).Round(time.Millisecond))
	if _, err := r.gitOut(ctx, "gc", "-q"); err != nil {
		return err
	}
	if out, err := r.gitOut(ctx, "status", "--porcelain"); err != nil || out != "" {
		return fmt.Errorf("the working tree is not clean after fast-import: %v %q", err, out)
	}

	gitDir, err := r.gitOut(ctx, "rev-parse", "--absolute-git-dir")
	if err != nil {
		return err
	}
	cache := filepath.Join(filepath.Dir(r.repo), "cache-history")
	// Fill the tag-list cache: the registry is not what is measured here.
	if s, err := r.tool(ctx, cache, "status"); err != nil {
		return err
	} else if s.Exit > 1 {
		return fmt.Errorf("git laminar status: exit %d: %v", s.Exit, s.Notes)
	}

	gitLog := &phase{Name: "git-log", What: "git log --format='%(trailers:key=Laminar-Promote,valueonly)'"}
	logp := &phase{Name: "log", What: "git laminar log", Baseline: "git-log"}
	logJSON := &phase{Name: "log-json", What: "git laminar log --json", Baseline: "git-log"}
	first := &phase{Name: "status-first", What: "git laminar status, warm tag lists, no state file: holds from all of history", Baseline: "git-log"}
	status := &phase{Name: "status", What: "git laminar status, warm tag lists, state file at HEAD", Baseline: "git-log"}
	for i := range o.runs {
		s, err := r.git(ctx, "log", "--format=%(trailers:key=Laminar-Promote,valueonly)")
		if err != nil {
			return err
		}
		gitLog.add(s)
		if s, err = r.tool(ctx, cache, "log"); err != nil {
			return err
		}
		logp.add(s)
		if s, err = r.tool(ctx, cache, "log", "--json"); err != nil {
			return err
		}
		logJSON.add(s)
		if err := removeHoldState(strings.TrimSpace(gitDir)); err != nil {
			return err
		}
		if s, err = r.tool(ctx, cache, "status"); err != nil {
			return err
		}
		first.add(s)
		if s, err = r.tool(ctx, cache, "status"); err != nil {
			return err
		}
		status.add(s)
		logf("round %d/%d: git log %s, log %s, log --json %s, status %s (no state file) %s", i+1, o.runs,
			round(gitLog.last()), round(logp.last()), round(logJSON.last()), round(first.last()), round(status.last()))
	}
	res.Phases = []*phase{gitLog, logp, logJSON, first, status}
	return nil
}

// removeHoldState removes what the tool keeps of holds between runs, so
// that a run reads all of history again.
func removeHoldState(gitDir string) error {
	err := os.Remove(filepath.Join(gitDir, "laminar-holds"))
	if os.IsNotExist(err) {
		return nil
	}
	return err
}
