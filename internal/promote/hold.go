package promote

import (
	"context"
	"fmt"
)

// CommitRecord records msg in a commit that changes no file, on top of
// expectHead (empty: whatever HEAD is), with the configured identity. It
// is how a release, which only adds a trailer, is committed.
func (w *Workspace) CommitRecord(ctx context.Context, msg, expectHead string) (string, error) {
	author, committer, err := w.identity()
	if err != nil {
		return "", err
	}
	hash, err := w.Repo.CommitEmpty(ctx, msg, author, committer, expectHead, w.commitOptions(msg))
	if err != nil {
		return "", fmt.Errorf("committing: %w", err)
	}
	return hash, nil
}
