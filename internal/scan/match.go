package scan

import "github.com/git-laminar/git-laminar/internal/imageref"

// Kind says how a reference was written, which decides how it may be edited.
type Kind string

const (
	// Inline is "name:tag", "name@digest" or "name:tag@digest" in one string.
	Inline Kind = "inline"
	// Kustomize is an entry of a kustomization's images: list. The Ref is
	// newName (else name) with newTag and digest; Tag and Digest point at
	// the newTag and digest values; Line and Column at the name value.
	Kustomize Kind = "kustomize"
	// HelmValues is an image split over the fields of a Helm values mapping
	// (registry, repository, tag, digest). Tag and Digest point at the tag
	// and digest values; Line and Column at the repository value.
	HelmValues Kind = "helm-values"
	// Marker is a value marked by a "laminar:" comment as the tag (or
	// digest) of a named image. Tag or Digest points at the value.
	Marker Kind = "marker"
)

// Span is a half-open byte range [Start, End) in a file's content.
type Span struct {
	Start int
	End   int
}

// Empty reports whether the span covers no bytes.
func (s Span) Empty() bool { return s.End <= s.Start }

// none is the span of an absent tag or digest.
var none = Span{-1, -1}

// Match is one image reference found in one file.
//
// Tag covers exactly the bytes of the tag (without the ':'); Digest covers
// the digest including its algorithm ("sha256:...", without the '@'). When
// the reference has no tag or no digest, the corresponding span is {-1, -1}.
type Match struct {
	Path   string // slash-separated, relative to the repository root
	Line   int    // 1-based line of the reference's first byte
	Column int    // 1-based byte column of the reference's first byte
	Ref    imageref.Ref
	Kind   Kind
	Tag    Span
	Digest Span
}
