package promote

import (
	"context"
	"fmt"
	"path"

	"github.com/git-laminar/git-laminar/internal/plan"
	"github.com/git-laminar/git-laminar/internal/trailer"
)

// A rollback returns an image to an earlier tag and holds it there: its
// commit carries, besides the Laminar-Promote trailers of the move, a
// Laminar-Rollback-Of trailer naming the commit it undoes and a
// Laminar-Hold trailer naming the image. Bumps leave a held image alone
// (Options.Held) until a commit with a Laminar-Release trailer for it: one
// made by git laminar release, or by an explicit git laminar set.

// RollbackMessage is the commit message of a rollback of image to tag.
// rollbackOf is the full id of the commit that promoted the tag being
// left, or empty when no such promotion is recorded (a rollback --to a
// tag from a state history does not explain).
func RollbackMessage(p plan.Plan, image, tag, rollbackOf string) (string, error) {
	var extra []trailer.Trailer
	note := ""
	if rollbackOf != "" {
		extra = append(extra, trailer.Trailer{Key: trailer.KeyRollback, Value: rollbackOf})
		note = fmt.Sprintf("Rolls back %s. ", rollbackOf[:min(12, len(rollbackOf))])
	}
	extra = append(extra, trailer.Trailer{Key: trailer.KeyHold, Value: image})
	note += fmt.Sprintf("Holds %s: bumps leave it alone until git laminar release or git laminar set.", image)
	return message(fmt.Sprintf("Roll back %s to %s", path.Base(image), tag), note, p, extra)
}

// ReleaseMessage is the commit message that lifts the hold on image.
func ReleaseMessage(image, reason string) (string, error) {
	body := fmt.Sprintf("Bumps promote %s again.", image)
	if reason != "" {
		body = fmt.Sprintf("It was %s. %s", reason, body)
	}
	return trailer.Build("Release "+path.Base(image), body,
		[]trailer.Trailer{{Key: trailer.KeyRelease, Value: image}})
}

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
