// Package commitmsg writes the commit messages of git-laminar's commits: a
// subject, a body listing the promotions, and the Laminar-* trailers that
// record them (see package trailer). Bump and run write Bump (or Template,
// over laminar.toml's [commit] message), set writes Set, rollback
// Rollback, release Release. Pure: no I/O.
package commitmsg

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/git-laminar/git-laminar/internal/msgtemplate"
	"github.com/git-laminar/git-laminar/internal/plan"
	"github.com/git-laminar/git-laminar/internal/trailer"
)

// Bump builds the commit message for a plan: a subject, a body listing the
// promotions, and a trailer block that git interpret-trailers can read.
func Bump(p plan.Plan) (string, error) {
	promos := p.Promotions
	if len(promos) == 0 {
		return "", errors.New("nothing to promote")
	}
	var subject string
	if len(promos) == 1 {
		subject = fmt.Sprintf("Promote %s to %s", path.Base(promos[0].Image), promos[0].To)
	} else {
		names := make([]string, 0, len(promos))
		seen := map[string]bool{}
		for _, pr := range promos {
			n := path.Base(pr.Image)
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
		list := strings.Join(names, ", ")
		if len(names) > 4 {
			list = strings.Join(names[:4], ", ") + fmt.Sprintf(" and %d more", len(names)-4)
		}
		subject = fmt.Sprintf("Promote %d images: %s", len(names), list)
	}

	var body strings.Builder
	for _, pr := range promos {
		fmt.Fprintf(&body, "- %s: %s -> %s\n", pr.Image, pr.From, pr.To)
		fmt.Fprintf(&body, "  in %s\n", FileList(pr.Paths))
	}
	return trailer.Build(subject, strings.TrimRight(body.String(), "\n"), promotionTrailers(p))
}

// promotionTrailers are the trailers of p's promotions: each promotion,
// then its digest and rule where known.
func promotionTrailers(p plan.Plan) []trailer.Trailer {
	var trailers []trailer.Trailer
	for _, pr := range p.Promotions {
		trailers = append(trailers, trailer.Promotion{Image: pr.Image, From: pr.From, To: pr.To}.Trailer())
		if pr.Digest != "" {
			trailers = append(trailers, trailer.Trailer{Key: trailer.KeyDigest, Value: pr.Image + " " + pr.Digest})
		}
		if pr.Rule != "" && !strings.ContainsAny(pr.Rule, " \t\r\n") {
			trailers = append(trailers, trailer.Trailer{Key: trailer.KeyRule, Value: pr.Image + " " + pr.Rule})
		}
	}
	return trailers
}

// FileListMax is how many files FileList names before "and N more".
const FileListMax = 5

// FileList names the first FileListMax paths, then how many more there
// are, so that a promotion across thousands of files stays one short line.
func FileList(paths []string) string {
	if len(paths) <= FileListMax {
		return strings.Join(paths, ", ")
	}
	return strings.Join(paths[:FileListMax], ", ") + fmt.Sprintf(" and %d more", len(paths)-FileListMax)
}

// Template renders the message template text over p's promotions (see
// package msgtemplate) and appends p's trailers. Rendered text with a line
// that reads as a Laminar-* trailer is refused.
func Template(text string, p plan.Plan) (string, error) {
	if len(p.Promotions) == 0 {
		return "", errors.New("nothing to promote")
	}
	t, err := msgtemplate.Parse(text)
	if err != nil {
		return "", fmt.Errorf("template %w", err)
	}
	d := msgtemplate.Data{Promotions: make([]msgtemplate.Promotion, 0, len(p.Promotions))}
	for _, pr := range p.Promotions {
		d.Promotions = append(d.Promotions, msgtemplate.Promotion{
			Image: pr.Image, Name: path.Base(pr.Image), From: pr.From, To: pr.To,
			Digest: pr.Digest, Rule: pr.Rule, Files: slices.Clone(pr.Paths),
		})
	}
	out, err := t.Execute(d)
	if err != nil {
		return "", fmt.Errorf("template %w", err)
	}
	if err := trailer.CheckNotForged(out); err != nil {
		return "", fmt.Errorf("rendered message %w", err)
	}
	subject, body, _ := strings.Cut(strings.TrimLeft(out, " \t\r\n"), "\n")
	msg, err := trailer.Build(subject, body, promotionTrailers(p))
	if err != nil {
		return "", fmt.Errorf("rendered message: %w", err)
	}
	return msg, nil
}

// Set is the commit message of a set: the promotions it makes and, when
// release is true, a Laminar-Release trailer that ends the image's hold.
func Set(p plan.Plan, image, tag string, release bool) (string, error) {
	var extra []trailer.Trailer
	note := ""
	if release {
		extra = append(extra, trailer.Trailer{Key: trailer.KeyRelease, Value: image})
		note = fmt.Sprintf("Ends the hold on %s: bumps promote it again.", image)
	}
	return message(fmt.Sprintf("Set %s to %s", path.Base(image), tag), note, p, extra)
}

// A rollback returns an image to an earlier tag and holds it there: its
// commit carries, besides the Laminar-Promote trailers of the move, a
// Laminar-Rollback-Of trailer naming the commit it undoes and a
// Laminar-Hold trailer naming the image. Bumps leave a held image alone
// until a commit with a Laminar-Release trailer for it: one made by git
// laminar release, or by an explicit git laminar set.

// Rollback is the commit message of a rollback of image to tag.
// rollbackOf is the full id of the commit that promoted the tag being
// left, or empty when no such promotion is recorded (a rollback --to a
// tag from a state history does not explain).
func Rollback(p plan.Plan, image, tag, rollbackOf string) (string, error) {
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

// Release is the commit message that lifts the hold on image.
func Release(image, reason string) (string, error) {
	body := fmt.Sprintf("Bumps promote %s again.", image)
	if reason != "" {
		body = fmt.Sprintf("It was %s. %s", reason, body)
	}
	return trailer.Build("Release "+path.Base(image), body,
		[]trailer.Trailer{{Key: trailer.KeyRelease, Value: image}})
}

// message is a subject, a body listing the plan's promotions and a note,
// and the trailers: each promotion (with its digest and rule), then extra.
func message(subject, note string, p plan.Plan, extra []trailer.Trailer) (string, error) {
	var body strings.Builder
	for _, pr := range p.Promotions {
		fmt.Fprintf(&body, "- %s: %s -> %s\n", pr.Image, pr.From, pr.To)
		fmt.Fprintf(&body, "  in %s\n", FileList(pr.Paths))
	}
	if note != "" {
		if body.Len() > 0 {
			body.WriteString("\n")
		}
		body.WriteString(note)
	}
	trailers := append(promotionTrailers(p), extra...)
	return trailer.Build(subject, strings.TrimRight(body.String(), "\n"), trailers)
}
