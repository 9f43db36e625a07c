package promote

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/policy"
	"github.com/git-laminar/git-laminar/internal/registry"
)

// Images returns the distinct canonical names of the images refs refer to,
// sorted.
func Images(refs []Reference) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range refs {
		if im := r.Ref.Image(); !seen[im] {
			seen[im] = true
			out = append(out, im)
		}
	}
	sort.Strings(out)
	return out
}

// ImageError says that an IMAGE argument names no image, or several.
type ImageError struct {
	Arg        string
	Candidates []string // the images it could mean; empty when none
	Known      []string // every image there is, when it means none
}

func (e *ImageError) Error() string {
	if len(e.Candidates) > 1 {
		return fmt.Sprintf("%q is ambiguous: it could be %s; name one in full", e.Arg, strings.Join(e.Candidates, ", "))
	}
	known := e.Known
	more := ""
	if len(known) > 10 {
		known, more = known[:10], fmt.Sprintf(" and %d more", len(e.Known)-10)
	}
	if len(known) == 0 {
		return fmt.Sprintf("no image %q is referenced in tracked files", e.Arg)
	}
	return fmt.Sprintf("no image %q is referenced in tracked files (there are %s%s)", e.Arg, strings.Join(known, ", "), more)
}

// FindImage returns the one image of images (canonical names) that arg
// names: the canonical name itself, the name as written in a file
// ("nginx", "docker.io/nginx" for docker.io/library/nginx), or any trailing
// part of the canonical name at a path boundary ("app" or "acme/app" for
// "registry.example.com/acme/app"). An exact name wins over trailing parts;
// two images ending in the same part make an *ImageError listing them.
func FindImage(arg string, images []string) (string, error) {
	if arg == "" {
		return "", errors.New("no IMAGE given")
	}
	for _, im := range images {
		if im == arg {
			return im, nil
		}
	}
	if r, err := imageref.Parse(arg); err == nil {
		if r.Tag != "" || r.Digest != "" {
			return "", fmt.Errorf("IMAGE %q: name the image without tag or digest", arg)
		}
		for _, im := range images {
			if im == r.Image() {
				return im, nil
			}
		}
	}
	var found []string
	for _, im := range images {
		if strings.HasSuffix(im, "/"+arg) {
			found = append(found, im)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	return "", &ImageError{Arg: arg, Candidates: found, Known: images}
}

// MissingTagError says that the tag to set is not in the image's registry.
type MissingTagError struct {
	Image, Tag string
	Err        error
}

func (e *MissingTagError) Error() string {
	return fmt.Sprintf("%s:%s does not exist in the registry, so nothing was changed: %v", e.Image, e.Tag, e.Err)
}

func (e *MissingTagError) Unwrap() error { return e.Err }

// SetRequest is one image to set to one exact tag.
type SetRequest struct {
	Image string // canonical name, as FindImage returns it
	Tag   string
	// From limits the change to references currently at one of these tags;
	// empty means every reference to the image.
	From []string
}

// SetProposal is what a set (or rollback) would do.
type SetProposal struct {
	*Proposal
	Image  string
	Tag    string
	Digest string // the registry's digest of Tag
	// Skipped are references to the image that have no tag to replace (a
	// bare name, or a digest alone).
	Skipped []Reference
}

// ProposeSet checks that req.Tag exists in the registry (a HEAD request
// for its digest) and renders the changes that set every reference to the
// image (of refs, as Scan returns them) to it, whether or not a rule
// manages the reference. References already at the tag, and with the
// tag's digest where one is pinned, are left alone. A missing tag is a
// *MissingTagError; a file with uncommitted changes a *DirtyError.
func (w *Workspace) ProposeSet(ctx context.Context, reg *registry.Client, refs []Reference, req SetRequest) (*SetProposal, error) {
	if !imageref.ValidTag(req.Tag) {
		return nil, fmt.Errorf("%q is not a valid tag", req.Tag)
	}
	sp := &SetProposal{Image: req.Image, Tag: req.Tag}
	from := map[string]bool{}
	for _, t := range req.From {
		from[t] = true
	}
	d := Decision{Image: req.Image, Choice: policy.Choice{Tag: req.Tag, Changed: true, Reason: "set by hand"}, rule: -1}
	currents := map[string]bool{}
	for _, r := range refs {
		if r.Ref.Image() != req.Image {
			continue
		}
		if r.Tag.Empty() {
			sp.Skipped = append(sp.Skipped, r)
			continue
		}
		if len(from) > 0 && !from[r.Ref.Tag] {
			continue
		}
		if d.Repo == "" {
			d.Repo = r.Ref.Repo()
		}
		currents[r.Ref.Tag] = true
		d.Refs = append(d.Refs, r)
	}
	if len(d.Refs) == 0 {
		if len(sp.Skipped) > 0 {
			return nil, fmt.Errorf("no reference to %s has a tag to replace", req.Image)
		}
		return nil, &ImageError{Arg: req.Image}
	}
	if len(currents) == 1 {
		d.Current = d.Refs[0].Ref.Tag
	}
	digest, err := reg.Digest(ctx, d.Repo, req.Tag)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return nil, &MissingTagError{Image: req.Image, Tag: req.Tag, Err: err}
		}
		return nil, fmt.Errorf("checking %s:%s in its registry: %w", req.Image, req.Tag, err)
	}
	d.Digest, sp.Digest = digest, digest
	p, err := w.Prepare(&Resolution{References: refs, Decisions: []Decision{d}})
	if err != nil {
		return nil, err
	}
	sp.Proposal = p
	return sp, nil
}

// TagForCommit returns the one tag of image (canonical, referenced in refs)
// that CI built from commit sha; see TagsForCommit. None, or several, is
// an error that says so (listing several).
func (w *Workspace) TagForCommit(ctx context.Context, reg *registry.Client, refs []Reference, image, sha string, short bool) (string, error) {
	repo := ""
	for _, r := range refs {
		if r.Ref.Image() == image {
			repo = r.Ref.Repo()
			break
		}
	}
	if repo == "" {
		return "", &ImageError{Arg: image}
	}
	tags, err := reg.Tags(ctx, repo)
	if err != nil {
		return "", err
	}
	// A registry may list names that are no tags (a newline, an escape
	// sequence in them): they are never candidates, nor printed.
	valid := tags[:0:0]
	for _, t := range tags {
		if imageref.ValidTag(t) {
			valid = append(valid, t)
		}
	}
	found, err := TagsForCommit(valid, sha, short)
	if err != nil {
		return "", err
	}
	form := ""
	if short {
		form = " in short form"
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no tag of %s names commit %s%s (looked at %d tags)", image, sha, form, len(tags))
	case 1:
		return found[0], nil
	}
	list := found
	more := ""
	if len(list) > 10 {
		list, more = list[:10], fmt.Sprintf(" and %d more", len(found)-10)
	}
	return "", fmt.Errorf("%d tags of %s name commit %s%s: %s%s; set one of them by name", len(found), image, sha, form, strings.Join(list, ", "), more)
}

// TagsForCommit returns, sorted, the tags that name commit sha (7 to 64
// hexadecimal digits, in any case) as one of their components: the parts of
// the tag between '-', '_' and '.' ("develop-b2ee56fd", "main-b2ee56fd-1699999999",
// "sha-b2ee56f"). A component names the commit when it is at least 7
// hexadecimal digits and it and sha agree over the shorter of the two (one
// is a prefix of the other). A component of 40 or more digits is the full
// form, a shorter one the short form. Tags in the full form are preferred
// when there are any; with short, only the short form is considered.
func TagsForCommit(tags []string, sha string, short bool) ([]string, error) {
	s := strings.ToLower(sha)
	if len(s) < 7 || len(s) > 64 || !isHex(s) {
		return nil, fmt.Errorf("commit %q: want 7 to 64 hexadecimal digits", sha)
	}
	var full, abbrev []string
	for _, tag := range tags {
		isFull, isShort := false, false
		for _, c := range strings.FieldsFunc(tag, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			c = strings.ToLower(c)
			if len(c) < 7 || !isHex(c) || !(strings.HasPrefix(s, c) || strings.HasPrefix(c, s)) {
				continue
			}
			if len(c) >= 40 {
				isFull = true
			} else {
				isShort = true
			}
		}
		if isFull {
			full = append(full, tag)
		}
		if isShort {
			abbrev = append(abbrev, tag)
		}
	}
	out := abbrev
	if !short && len(full) > 0 {
		out = full
	}
	sort.Strings(out)
	return out, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}
