package registry

import (
	"encoding/json"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// A tag list page is whatever a registry sends. Reading it must never
// panic; the page handed on must parse and hold only valid tags, no more
// than the cap; and the "manifest" map must record only digests that
// parse, for valid tags, with times only for single images.
func FuzzListedPage(f *testing.F) {
	f.Add([]byte(`{"name":"a","tags":["x"],"manifest":{"sha256:`+strings.Repeat("a", 64)+
		`":{"mediaType":"application/vnd.oci.image.manifest.v1+json","tag":["x"],"timeCreatedMs":"1700000000000"}}}`), 3)
	f.Add([]byte(`{"tags":["x"]}`), 1)
	f.Add([]byte(`{"tags":["a","`+strings.Repeat("d", 129)+`","-x",".y","ok.1-2_3"]}`), 2)
	f.Add([]byte(`{"manifest":{"latest":{"tag":["x"],"timeCreatedMs":"-1"}}}`), 5)
	f.Add([]byte(`{"manifest":null,"tags":null}`), 5)
	f.Add([]byte(`{"next":{"a":[1,{"b":[]}]},"tags":[1]}`), 5)
	f.Fuzz(func(t *testing.T, page []byte, maxTags int) {
		ls := newListing(Limits{}.withDefaults(), maxTags%100)
		slim, err := ls.page([32]byte{1}, [32]byte{}, page)
		if err == nil {
			var got struct{ Tags []string }
			if err := json.Unmarshal(slim, &got); err != nil {
				t.Fatalf("slim page %q does not parse: %v", slim, err)
			}
			if len(got.Tags) > ls.maxTags {
				t.Fatalf("slim page has %d tags, over the cap of %d", len(got.Tags), ls.maxTags)
			}
			for _, tag := range got.Tags {
				if !validTag(tag) {
					t.Fatalf("invalid tag %q handed on", tag)
				}
			}
		}
		for tag, li := range ls.listed.byTag {
			if !validTag(tag) {
				t.Fatalf("invalid tag %q recorded", tag)
			}
			if _, err := v1.NewHash(li.digest); err != nil {
				t.Fatalf("tag %q recorded with digest %q: %v", tag, li.digest, err)
			}
			if !li.created.IsZero() && li.created.UnixMilli() <= 0 {
				t.Fatalf("tag %q recorded with time %v", tag, li.created)
			}
		}
		if len(ls.listed.byTag) > ls.maxTags {
			t.Fatalf("%d tags recorded, over the cap of %d", len(ls.listed.byTag), ls.maxTags)
		}
	})
}

// A tag is at most 128 characters long.
func TestValidTag(t *testing.T) {
	for tag, want := range map[string]bool{
		"v1.2.3": true, strings.Repeat("a", 128): true, strings.Repeat("é", 64): true,
		strings.Repeat("a", 129): false, strings.Repeat("é", 65): false,
	} {
		if got := validTag(tag); got != want {
			t.Errorf("validTag(%q) = %v, want %v", tag, got, want)
		}
	}
}
