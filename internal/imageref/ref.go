// Package imageref holds the Ref value: one container image reference as it
// was written in a file, split into its parts and normalised with
// go-containerregistry's pkg/name.
package imageref

// Ref is a parsed image reference.
//
// Original is the exact spelling found in the file ("nginx:1.25",
// "registry.example.com:5000/acme/app:develop-1@sha256:..."). Name is that
// spelling without tag and digest ("nginx"). Registry and Repository are the
// normalised parts ("index.docker.io", "library/nginx"). Tag and Digest are
// empty when absent; Digest includes the algorithm ("sha256:abc...").
type Ref struct {
	Original   string
	Name       string
	Registry   string
	Repository string
	Tag        string
	Digest     string
}
