package registry

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Spellings of one repository are listed once; Docker Hub has many. This
// needs no network: grouping happens before any request.
func TestGroup(t *testing.T) {
	in := []string{
		"docker.io/nginx", "127.0.0.1:5000/acme/app", "index.docker.io/library/nginx",
		"docker.io/library/nginx", "127.0.0.1:5000/acme/app", "Bad Name", "127.0.0.1:5000/acme/other",
	}
	failed, groups := New(Options{}).group(in)
	want := [][]string{
		{"docker.io/nginx", "index.docker.io/library/nginx", "docker.io/library/nginx"},
		{"127.0.0.1:5000/acme/app"},
		{"127.0.0.1:5000/acme/other"},
	}
	if diff := cmp.Diff(want, groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if len(failed) != 1 || failed["Bad Name"].Err == nil {
		t.Errorf("failed = %v, want the unparseable name alone, with an error", failed)
	}
}
