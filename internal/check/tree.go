package check

import (
	"bytes"
	"context"
	"errors"
	"os"

	"github.com/git-laminar/git-laminar/internal/config"
	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/promote"
	"github.com/git-laminar/git-laminar/internal/rules"
	"github.com/git-laminar/git-laminar/internal/scan"
)

// TreeOptions say where the rules for a commit's tree come from.
type TreeOptions struct {
	// ConfigPath, when set, is a file on disk read instead of the
	// laminar.toml of the tree (the --config flag, LAMINAR_CONFIG).
	ConfigPath string
	// Warn, if set, is told of each file skipped for its name, as a
	// scan of the working tree skips it (promote.OddName).
	Warn func(string)
}

// TreeReferences returns the managed references of the tree of the commit
// rev names, under the rules of that same tree's laminar.toml: what is
// being pushed is checked by the rules being pushed with it. A tree without
// laminar.toml manages nothing. A laminar.toml that does not parse, or
// whose rules do not compile, is a BadConfig problem.
func TreeReferences(ctx context.Context, repo *gitrepo.Repo, rev string, opt TreeOptions) ([]Reference, []Problem, error) {
	var cfg *config.Config
	var err error
	if opt.ConfigPath != "" {
		cfg, err = config.Load(opt.ConfigPath)
	} else {
		var data []byte
		data, err = repo.ReadFile(rev, config.FileName)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		cfg, err = config.Parse(config.FileName, data)
	}
	if err != nil {
		return nil, []Problem{configProblem(err, config.FileName)}, nil
	}
	rs, err := rules.Compile(cfg)
	if err != nil {
		return nil, []Problem{configProblem(err, cfg.Path)}, nil
	}
	if rs.Empty() {
		return nil, nil, nil
	}
	files, err := repo.TreeFiles(rev)
	if err != nil {
		return nil, nil, err
	}
	var refs []Reference
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		if f.Size > scan.DefaultMaxFileSize || !rs.Covers(f.Path) {
			continue
		}
		if why := promote.OddName(f.Path); why != "" {
			if opt.Warn != nil {
				opt.Warn(why)
			}
			continue
		}
		content, err := repo.ReadBlob(f.Hash)
		if err != nil {
			return nil, nil, err
		}
		if isBinary(content) {
			continue
		}
		for _, m := range scan.File(f.Path, content) {
			if r := rs.Assign(m); r.Managed() {
				refs = append(refs, Reference{Path: m.Path, Line: m.Line, Ref: m.Ref})
			}
		}
	}
	return refs, nil, nil
}

func configProblem(err error, file string) Problem {
	p := Problem{File: file, Kind: BadConfig, Problem: err.Error()}
	var ce *config.Error
	if errors.As(err, &ce) {
		p.File, p.Line = ce.File, ce.Line
		p.Problem = ce.Msg
		if ce.Key != "" {
			p.Problem = ce.Key + ": " + ce.Msg
		}
	}
	return p
}

// isBinary is scan's test: a NUL byte in the first 8000 bytes.
func isBinary(b []byte) bool {
	if len(b) > 8000 {
		b = b[:8000]
	}
	return bytes.IndexByte(b, 0) >= 0
}
