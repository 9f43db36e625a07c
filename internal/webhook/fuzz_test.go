package webhook

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/imageref"
	"github.com/git-laminar/git-laminar/internal/printable"
)

// fuzzSource runs Parse on body sent to source with the right proof and
// with a wrong one, and checks what holds for any body: a wrong proof is
// refused; every hint names a valid image and tag, normalised, printable,
// once; every error is ours, with a status a sender can be given, and
// reads safely.
func fuzzSource(f *testing.F, source string) {
	// Every fixture is a seed of every source: one source's payload sent to
	// another is a case worth mutating.
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		const secret = "fuzz-secret"
		events := []string{""}
		if source == GitHub {
			events = []string{"package", "registry_package"}
		}
		for _, event := range events {
			r := newRequest(t, "http://laminar.test", source, secret, body)
			if event != "" {
				r.Header.Set(githubEventHeader, event)
			}
			hs, err := Parse(source, r, secret)
			checkParse(t, source, hs, err)

			r = newRequest(t, "http://laminar.test", source, "not-"+secret, body)
			if event != "" {
				r.Header.Set(githubEventHeader, event)
			}
			if _, err := Parse(source, r, secret); !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("a wrong proof: err %v", err)
			}
		}
	})
}

func checkParse(t *testing.T, source string, hs []Hint, err error) {
	t.Helper()
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %T %v is not an *Error", err, err)
		}
		if s := Status(err); s != http.StatusBadRequest && s != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d for %v", s, err)
		}
		text := err.Error()
		if !printable.Is(text) || strings.ContainsAny(text, "<>&") || len(text) > 400 {
			t.Fatalf("error text not safe: %q", text)
		}
		if hs != nil {
			t.Fatalf("hints %v with an error", hs)
		}
		return
	}
	if len(hs) > MaxHints {
		t.Fatalf("%d hints", len(hs))
	}
	seen := map[Hint]bool{}
	for _, h := range hs {
		if seen[h] {
			t.Fatalf("hint %v twice", h)
		}
		seen[h] = true
		if h.Source != source {
			t.Fatalf("hint %v from source %s", h, source)
		}
		ref, err := imageref.Parse(h.Image)
		if err != nil || ref.Image() != h.Image || ref.Tag != "" || ref.Digest != "" {
			t.Fatalf("hint image %q is not a normalised repository (%v)", h.Image, err)
		}
		if !imageref.ValidTag(h.Tag) {
			t.Fatalf("hint tag %q is not a tag", h.Tag)
		}
		if !printable.Is(h.Image) || !printable.Is(h.Tag) {
			t.Fatalf("hint %q is not printable", h)
		}
	}
}

func FuzzDistribution(f *testing.F) { fuzzSource(f, Distribution) }
func FuzzDockerHub(f *testing.F)    { fuzzSource(f, DockerHub) }
func FuzzHarbor(f *testing.F)       { fuzzSource(f, Harbor) }
func FuzzQuay(f *testing.F)         { fuzzSource(f, Quay) }
func FuzzGitHub(f *testing.F)       { fuzzSource(f, GitHub) }
func FuzzGitLab(f *testing.F)       { fuzzSource(f, GitLab) }
func FuzzGeneric(f *testing.F)      { fuzzSource(f, Generic) }

// FuzzAuthorization fuzzes the header the distribution registry and Harbor
// send: only the configured secret, bare or after "Bearer ", gets in.
func FuzzAuthorization(f *testing.F) {
	for _, s := range []string{"Bearer s3cret", "s3cret", "Bearer ", "", "Bearer s3cret ", "Basic czNjcmV0"} {
		f.Add(s)
	}
	body := []byte(`{"events":[]}`)
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodPost, PathPrefix+Distribution, strings.NewReader(string(body)))
		r.Header["Authorization"] = []string{header}
		_, err := Parse(Distribution, r, "s3cret")
		ok := header == "s3cret" || header == "Bearer s3cret"
		if (err == nil) != ok {
			t.Fatalf("Authorization %q: err %v", header, err)
		}
	})
}
