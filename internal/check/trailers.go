package check

import (
	"errors"
	"fmt"
	"strings"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
	"github.com/git-laminar/git-laminar/internal/trailer"
)

// Trailers checks the Laminar-* trailers of each commit, as git reads the
// trailer block, with trailer.Validate: a key spelled exactly as ours and a
// value in that key's grammar. Trailers of other keys are not judged.
func Trailers(commits []gitrepo.Commit) []Problem {
	var out []Problem
	for _, c := range commits {
		for _, t := range trailer.Parse(c.Message) {
			if len(t.Key) < len("Laminar-") || !strings.EqualFold(t.Key[:len("Laminar-")], "Laminar-") {
				continue
			}
			err := trailer.Validate(t)
			if err == nil {
				continue
			}
			p := Problem{Commit: c.Hash, Kind: BadTrailer}
			var te *trailer.Error
			if errors.As(err, &te) {
				p.Problem = fmt.Sprintf("%s: malformed value %q: %s", t.Key, te.Value, te.Reason)
			} else {
				p.Problem = fmt.Sprintf("%s: %v", t.Key, err)
			}
			out = append(out, p)
		}
	}
	return out
}
