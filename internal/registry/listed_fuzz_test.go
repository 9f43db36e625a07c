package registry

import (
	"encoding/json"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// A tag list page is whatever a registry sends. Reading its "manifest" map
// must never panic, and must record only digests that parse, for tags the
// map names, with times only for single images.
func FuzzListedPage(f *testing.F) {
	f.Add([]byte(`{"name":"a","tags":["x"],"manifest":{"sha256:` + strings.Repeat("a", 64) +
		`":{"mediaType":"application/vnd.oci.image.manifest.v1+json","tag":["x"],"timeCreatedMs":"1700000000000"}}}`))
	f.Add([]byte(`{"tags":["x"]}`))
	f.Add([]byte(`{"manifest":{"latest":{"tag":["x"],"timeCreatedMs":"-1"}}}`))
	f.Add([]byte(`{"manifest":null}`))
	f.Fuzz(func(t *testing.T, page []byte) {
		var l listedImages
		if slim, ok := l.add(page); ok {
			// What the lister above reads instead: the page's tags, as JSON.
			var orig, got struct{ Tags []string }
			if err := json.Unmarshal(slim, &got); err != nil {
				t.Fatalf("slim page %q does not parse: %v", slim, err)
			}
			if json.Unmarshal(page, &orig) == nil && len(orig.Tags) != len(got.Tags) {
				t.Fatalf("slim page has %d tags, the page %d", len(got.Tags), len(orig.Tags))
			}
		}
		for tag, li := range l.byTag {
			if tag == "" && li.digest == "" {
				t.Fatalf("empty entry recorded")
			}
			if _, err := v1.NewHash(li.digest); err != nil {
				t.Fatalf("tag %q recorded with digest %q: %v", tag, li.digest, err)
			}
			if !li.created.IsZero() && li.created.UnixMilli() <= 0 {
				t.Fatalf("tag %q recorded with time %v", tag, li.created)
			}
		}
	})
}
