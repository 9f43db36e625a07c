package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/git-laminar/git-laminar/internal/printable"
)

// fixtures names, for each source, a payload in testdata written in the
// shape its documentation gives, and the GitHub event it is sent as.
var fixtures = map[string]struct{ file, event string }{
	Distribution: {"distribution.json", ""},
	DockerHub:    {"dockerhub.json", ""},
	Harbor:       {"harbor.json", ""},
	Quay:         {"quay.json", ""},
	GitHub:       {"github_package.json", "package"},
	GitLab:       {"gitlab.json", ""},
	Generic:      {"generic.json", ""},
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newRequest is a POST of body to source's path under base, carrying
// secret the way that source's sender carries it.
func newRequest(t testing.TB, base, source, secret string, body []byte) *http.Request {
	t.Helper()
	target := base + PathPrefix + source
	if source == DockerHub || source == Quay {
		target += "?" + TokenParam + "=" + url.QueryEscape(secret)
	}
	r, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	switch source {
	case Distribution:
		r.Header.Set("Content-Type", "application/vnd.docker.distribution.events.v1+json")
		r.Header.Set("Authorization", "Bearer "+secret)
	case Harbor:
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", secret)
	case GitLab:
		r.Header.Set(gitlabTokenHeader, secret)
	case GitHub:
		r.Header.Set(githubEventHeader, "package")
		r.Header.Set(githubSignatureHeader, SignatureValue(body, secret))
	case Generic:
		r.Header.Set(SignatureHeader, SignatureValue(body, secret))
	}
	return r
}

// server is what a service does with Parse: one handler for every source,
// answering with the hints as JSON or with Status and the error's text.
func server(t *testing.T, secrets map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		source := strings.TrimPrefix(r.URL.Path, PathPrefix)
		hs, err := Parse(source, r, secrets[source])
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("Parse returned %T, not *Error: %v", err, err)
			}
			http.Error(w, err.Error(), Status(err))
			return
		}
		json.NewEncoder(w).Encode(hs)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type answer struct {
	status int
	text   string
	hints  []Hint
}

func do(t *testing.T, r *http.Request) answer {
	t.Helper()
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: res.StatusCode, text: string(b)}
	if a.status == http.StatusOK {
		if err := json.Unmarshal(b, &a.hints); err != nil {
			t.Fatalf("answer %q: %v", b, err)
		}
	}
	return a
}

func sameSecrets(secret string) map[string]string {
	m := map[string]string{}
	for _, s := range Sources {
		m[s] = secret
	}
	return m
}

func TestFixtures(t *testing.T) {
	const secret = "s3cret-for-tests"
	srv := server(t, sameSecrets(secret))
	tests := []struct {
		source, file, event string
		want                []Hint
	}{
		// A manifest push with a tag counts; a blob push, a pull and a
		// host-less event do not; the target's URL gives the host when the
		// request record has none.
		{Distribution, "distribution.json", "", []Hint{
			{Distribution, "registry.example.com:5000/payments/api", "v2.4.1"},
			{Distribution, "registry.example.com:5000/payments/worker", "v1.0.0"},
		}},
		{DockerHub, "dockerhub.json", "", []Hint{{DockerHub, "docker.io/acmecorp/api", "1.27.3"}}},
		{Harbor, "harbor.json", "", []Hint{{Harbor, "harbor.example.com/platform/gateway", "2026.11.30-1"}}},
		{Quay, "quay.json", "", []Hint{
			{Quay, "quay.io/acme/frontend", "v3.1.0"},
			{Quay, "quay.io/acme/frontend", "latest"},
		}},
		{Quay, "quay_map.json", "", []Hint{{Quay, "quay.example.com/acme/frontend", "v3.1.1"}}},
		// The owner's case in package_url is not the registry's.
		{GitHub, "github_package.json", "package", []Hint{{GitHub, "ghcr.io/acme-corp/edge-proxy", "v1.8.0"}}},
		{GitHub, "github_registry_package.json", "registry_package", []Hint{{GitHub, "ghcr.io/acme-corp/edge-proxy", "v1.8.1"}}},
		{GitHub, "github_npm.json", "package", nil},
		// A ping is signed and answered, with no hint.
		{GitHub, "github_package.json", "ping", nil},
		// The event header chooses the object: a package event has no
		// registry_package object to read.
		{GitHub, "github_registry_package.json", "package", nil},
		{GitLab, "gitlab.json", "", []Hint{{GitLab, "registry.gitlab.example.com/infra/deploy/tools", "0.14.2"}}},
		{Generic, "generic.json", "", []Hint{{Generic, "registry.example.com:5000/payments/api", "v2.4.2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.source+"/"+tt.file+"/"+tt.event, func(t *testing.T) {
			body := readFixture(t, tt.file)
			r := newRequest(t, srv.URL, tt.source, secret, body)
			if tt.event != "" {
				r.Header.Set(githubEventHeader, tt.event)
			}
			a := do(t, r)
			if tt.source == GitHub && tt.file == "github_registry_package.json" && tt.event == "package" {
				if a.status != http.StatusBadRequest {
					t.Fatalf("status %d %q, want 400", a.status, a.text)
				}
				return
			}
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.text)
			}
			if diff := cmp.Diff(tt.want, a.hints); diff != "" {
				t.Errorf("hints (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEverySourceHasAFixture(t *testing.T) {
	for _, s := range Sources {
		if _, ok := fixtures[s]; !ok {
			t.Errorf("no fixture for %s", s)
		}
		if _, ok := parsers[s]; !ok {
			t.Errorf("no parser for %s", s)
		}
	}
	if len(parsers) != len(Sources) {
		t.Errorf("%d parsers for %d sources", len(parsers), len(Sources))
	}
}

// TestAuthentication sends each fixture with its proof missing, wrong,
// made for another body, doubled, or where the source does not look.
func TestAuthentication(t *testing.T) {
	const secret = "right-secret"
	srv := server(t, sameSecrets(secret))
	other := []byte(`{"image":"registry.example.com:5000/payments/api","tag":"v6.6.6"}`)
	for _, source := range Sources {
		body := readFixture(t, fixtures[source].file)
		tests := []struct {
			name   string
			break_ func(r *http.Request)
		}{
			{"wrong secret", func(r *http.Request) { reauth(t, r, source, "wrong-secret", body) }},
			{"no proof", func(r *http.Request) { strip(r) }},
			{"secret as a prefix", func(r *http.Request) { reauth(t, r, source, secret[:5], body) }},
			{"secret with more after it", func(r *http.Request) { reauth(t, r, source, secret+"x", body) }},
			{"proof made for another body", func(r *http.Request) { reauth(t, r, source, secret, other) }},
			{"proof given twice", func(r *http.Request) { double(r) }},
		}
		for _, tt := range tests {
			t.Run(source+"/"+tt.name, func(t *testing.T) {
				r := newRequest(t, srv.URL, source, secret, body)
				tt.break_(r)
				a := do(t, r)
				// A token that does not depend on the body still
				// authenticates another body: that case is only for the
				// sources that sign.
				if tt.name == "proof made for another body" && source != GitHub && source != Generic {
					return
				}
				if a.status != http.StatusUnauthorized {
					t.Errorf("status %d %q, want 401", a.status, a.text)
				}
				if strings.Contains(a.text, secret) {
					t.Errorf("the answer %q repeats the secret", a.text)
				}
			})
		}
	}
}

// reauth replaces r's proof with one for secret and body.
func reauth(t *testing.T, r *http.Request, source, secret string, body []byte) {
	fresh := newRequest(t, "http://"+r.URL.Host, source, secret, body)
	strip(r)
	for k, v := range fresh.Header {
		r.Header[k] = v
	}
	r.URL.RawQuery = fresh.URL.RawQuery
}

func strip(r *http.Request) {
	for _, h := range []string{"Authorization", gitlabTokenHeader, githubSignatureHeader, SignatureHeader} {
		r.Header.Del(h)
	}
	r.URL.RawQuery = ""
}

func double(r *http.Request) {
	for _, h := range []string{"Authorization", gitlabTokenHeader, githubSignatureHeader, SignatureHeader} {
		if v := r.Header.Get(h); v != "" {
			r.Header.Add(h, v)
		}
	}
	if q := r.URL.RawQuery; q != "" {
		r.URL.RawQuery = q + "&" + q
	}
}

func TestNoSecretConfiguredAcceptsNothing(t *testing.T) {
	srv := server(t, map[string]string{})
	for _, source := range Sources {
		body := readFixture(t, fixtures[source].file)
		// Proof made with the empty secret, which is what an
		// unconfigured source would compare with.
		a := do(t, newRequest(t, srv.URL, source, "", body))
		if a.status != http.StatusUnauthorized {
			t.Errorf("%s: status %d %q, want 401", source, a.status, a.text)
		}
	}
}

func TestAuthorizationHeaderForms(t *testing.T) {
	body := readFixture(t, "distribution.json")
	for _, tt := range []struct {
		configured, sent string
		ok               bool
	}{
		{"s3cret", "Bearer s3cret", true},
		{"Bearer s3cret", "Bearer s3cret", true},
		{"s3cret", "s3cret", true},
		{"Bearer s3cret", "s3cret", false},
		{"s3cret", "Basic s3cret", false},
		{"s3cret", "Bearer  s3cret", false},
		{"s3cret", "bearer s3cret", false},
	} {
		r := httptest.NewRequest(http.MethodPost, PathPrefix+Distribution, bytes.NewReader(body))
		r.Header.Set("Authorization", tt.sent)
		_, err := Parse(Distribution, r, tt.configured)
		if (err == nil) != tt.ok {
			t.Errorf("configured %q, sent %q: err %v, want ok=%v", tt.configured, tt.sent, err, tt.ok)
		}
	}
}

// TestTokenOnlyInTheURL: the sources whose senders can set no header take
// their token from the URL alone.
func TestTokenOnlyInTheURL(t *testing.T) {
	for _, source := range []string{DockerHub, Quay} {
		body := readFixture(t, fixtures[source].file)
		r := httptest.NewRequest(http.MethodPost, PathPrefix+source, bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer tok")
		r.Header.Set(gitlabTokenHeader, "tok")
		if _, err := Parse(source, r, "tok"); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s: token in headers only: err %v, want unauthorized", source, err)
		}
	}
}

// TestReplayToAnotherSource posts each source's request, proof and all, to
// every other source's path. With a secret per source it must be refused;
// with one secret shared by all it must still yield no hint, except
// between the two sources that read the same envelope.
func TestReplayToAnotherSource(t *testing.T) {
	perSource := map[string]string{}
	for i, s := range Sources {
		perSource[s] = fmt.Sprintf("secret-%d-%s", i, s)
	}
	distinct := server(t, perSource)
	shared := server(t, sameSecrets("one-secret"))
	for _, from := range Sources {
		body := readFixture(t, fixtures[from].file)
		for _, to := range Sources {
			if to == from {
				continue
			}
			r := newRequest(t, distinct.URL, from, perSource[from], body)
			r.URL.Path = PathPrefix + to
			if a := do(t, r); a.status != http.StatusUnauthorized {
				t.Errorf("%s replayed to %s: status %d %q, want 401", from, to, a.status, a.text)
			}

			// Same secret: the proof the target source wants is valid,
			// so only the payload's shape keeps it out.
			r = newRequest(t, shared.URL, to, "one-secret", body)
			a := do(t, r)
			envelopes := (from == Distribution || from == GitLab) && (to == Distribution || to == GitLab)
			if envelopes {
				if a.status != http.StatusOK || len(a.hints) == 0 {
					t.Errorf("%s payload to %s: %d %q, want its hints", from, to, a.status, a.text)
				}
				continue
			}
			if len(a.hints) != 0 {
				t.Errorf("%s payload to %s yields hints %v", from, to, a.hints)
			}
		}
	}
}

func TestOversizedBody(t *testing.T) {
	const secret = "s"
	srv := server(t, sameSecrets(secret))
	big := bytes.Repeat([]byte(" "), MaxBody+1)
	for _, source := range Sources {
		body := append(readFixture(t, fixtures[source].file), big...)
		// With a Content-Length, refused before reading.
		r := newRequest(t, srv.URL, source, secret, body)
		if a := do(t, r); a.status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: status %d %q, want 413", source, a.status, a.text)
		}
		// Chunked, with no length given: refused after MaxBody+1 bytes.
		r = newRequest(t, srv.URL, source, secret, body)
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body)))
		r.ContentLength = -1
		if a := do(t, r); a.status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s chunked: status %d %q, want 413", source, a.status, a.text)
		}
	}
	// Exactly MaxBody is read whole.
	body := readFixture(t, "generic.json")
	body = append(body, bytes.Repeat([]byte(" "), MaxBody-len(body))...)
	if a := do(t, newRequest(t, srv.URL, Generic, secret, body)); a.status != http.StatusOK {
		t.Errorf("a body of MaxBody bytes: status %d %q", a.status, a.text)
	}
}

// TestServerBoundBody: a server that bounds the body itself, more tightly
// than MaxBody, gets ErrTooLarge from Parse for a body past its bound.
func TestServerBoundBody(t *testing.T) {
	body := readFixture(t, "generic.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16)
		_, err := Parse(Generic, r, "s")
		// The server's own error stays reachable, for a server that
		// looks for it.
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) || mbe.Limit != 16 {
			t.Errorf("%v does not wrap the server's *http.MaxBytesError", err)
		}
		http.Error(w, fmt.Sprint(err), Status(err))
	}))
	defer srv.Close()
	r := newRequest(t, srv.URL, Generic, "s", body)
	r.ContentLength = -1
	r.Body = io.NopCloser(bytes.NewReader(body))
	if a := do(t, r); a.status != http.StatusRequestEntityTooLarge || !strings.Contains(a.text, "longer than 16 bytes") {
		t.Errorf("status %d %q, want 413", a.status, a.text)
	}
}

// countingReader counts what Parse reads of an endless body.
type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	c.n += len(p)
	return len(p), nil
}

func TestEndlessBodyIsReadOnlyToTheLimit(t *testing.T) {
	for _, source := range []string{GitHub, Generic} {
		c := &countingReader{}
		r := httptest.NewRequest(http.MethodPost, PathPrefix+source, c)
		r.ContentLength = -1
		r.Header.Set(githubEventHeader, "package")
		r.Header.Set(githubSignatureHeader, SignatureValue(nil, "s"))
		r.Header.Set(SignatureHeader, SignatureValue(nil, "s"))
		_, err := Parse(source, r, "s")
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: err %v, want too large", source, err)
		}
		if c.n > MaxBody+64<<10 {
			t.Errorf("%s: read %d bytes of an endless body", source, c.n)
		}
	}
	// A token source refuses a wrong token without reading the body at all.
	c := &countingReader{}
	r := httptest.NewRequest(http.MethodPost, PathPrefix+Quay+"?token=wrong", c)
	if _, err := Parse(Quay, r, "s"); !errors.Is(err, ErrUnauthorized) || c.n != 0 {
		t.Errorf("wrong token: err %v after reading %d bytes", err, c.n)
	}
}

// hostile names a tag or image written by someone else, each of which
// must be dropped.
var hostile = []string{
	"app\nname",
	"app\x1b[31m",
	"app\u202ename",
	"app\x00",
	"../../etc",
	"app/",
	"",
	"<script>",
	strings.Repeat("a", 300),
}

func TestHostileNamesAreDropped(t *testing.T) {
	const secret = "s"
	srv := server(t, sameSecrets(secret))
	payload := map[string]func(image, tag string) any{
		Distribution: func(image, tag string) any {
			return map[string]any{"events": []any{map[string]any{
				"action": "push", "target": map[string]any{"repository": image, "tag": tag},
				"request": map[string]any{"host": "registry.example.com"}}}}
		},
		GitLab: func(image, tag string) any {
			return map[string]any{"events": []any{map[string]any{
				"action": "push", "target": map[string]any{"repository": image, "tag": tag},
				"request": map[string]any{"host": "registry.example.com"}}}}
		},
		DockerHub: func(image, tag string) any {
			return map[string]any{"push_data": map[string]any{"tag": tag}, "repository": map[string]any{"repo_name": image}}
		},
		Harbor: func(image, tag string) any {
			return map[string]any{"type": "PUSH_ARTIFACT", "event_data": map[string]any{
				"resources":  []any{map[string]any{"tag": tag, "resource_url": "harbor.example.com/" + image + ":" + tag}},
				"repository": map[string]any{"repo_full_name": image}}}
		},
		Quay: func(image, tag string) any {
			return map[string]any{"docker_url": "quay.io/" + image, "updated_tags": []string{tag}}
		},
		GitHub: func(image, tag string) any {
			return map[string]any{"action": "published", "package": map[string]any{
				"package_type": "CONTAINER",
				"package_version": map[string]any{"package_url": "ghcr.io/" + image + ":" + tag,
					"container_metadata": map[string]any{"tag": map[string]any{"name": tag}}}}}
		},
		Generic: func(image, tag string) any {
			return map[string]any{"image": "registry.example.com/" + image, "tag": tag}
		},
	}
	for _, source := range Sources {
		mk := payload[source]
		// The same payload with good names yields a hint, so a dropped
		// hostile name is dropped for its name.
		good, _ := json.Marshal(mk("team/app", "v1"))
		if a := do(t, newRequest(t, srv.URL, source, secret, good)); len(a.hints) != 1 {
			t.Fatalf("%s: good names: %d %q", source, a.status, a.text)
		}
		for _, bad := range hostile {
			for _, body := range []any{mk("team/"+bad, "v1"), mk("team/app", bad)} {
				b, _ := json.Marshal(body)
				a := do(t, newRequest(t, srv.URL, source, secret, b))
				if len(a.hints) != 0 {
					t.Errorf("%s %q: hints %v", source, bad, a.hints)
				}
				if a.status != http.StatusOK && a.status != http.StatusBadRequest {
					t.Errorf("%s %q: status %d", source, bad, a.status)
				}
				checkSafe(t, a.text)
			}
		}
	}
}

// checkSafe fails if text, an answer to a sender, could act on a terminal
// or in a page, or is unbounded.
func checkSafe(t *testing.T, text string) {
	t.Helper()
	text = strings.TrimSuffix(text, "\n")
	if !printable.Is(text) || strings.ContainsAny(text, "<>&") || len(text) > 400 {
		t.Errorf("answer not safe to show: %q", text)
	}
}

func TestBadPayloads(t *testing.T) {
	const secret = "s"
	srv := server(t, sameSecrets(secret))
	for _, source := range Sources {
		for _, body := range []string{
			"",
			"not json <script>alert(1)</script>",
			"[]",
			`{"events": "push"}`,
			`{}`,
			`{"image": "a\u001b[2J", "x": 1}` + "\n" + `{"tag":"1"}`,
			"{\"" + strings.Repeat("\x1b", 200) + "\": 1",
		} {
			a := do(t, newRequest(t, srv.URL, source, secret, []byte(body)))
			if a.status != http.StatusBadRequest {
				t.Errorf("%s %q: status %d %q, want 400", source, body, a.status, a.text)
			}
			checkSafe(t, a.text)
		}
	}
}

func TestGenericIsStrict(t *testing.T) {
	const secret = "s"
	srv := server(t, sameSecrets(secret))
	for _, tt := range []struct {
		body string
		want []Hint
		msg  string
	}{
		{`{"image":"nginx","tag":"1.27"}`, []Hint{{Generic, "docker.io/library/nginx", "1.27"}}, ""},
		{`{"image":"Registry.Example.com/team/app:v1"}`, []Hint{{Generic, "registry.example.com/team/app", "v1"}}, ""},
		{`{"image":"registry.example.com/team/app:v1","tag":"v1"}`, []Hint{{Generic, "registry.example.com/team/app", "v1"}}, ""},
		{`{"image":"registry.example.com/team/app:v1","tag":"v2"}`, nil, "disagree"},
		{`{"image":"registry.example.com/team/app"}`, nil, "no tag"},
		{`{"tag":"v1"}`, nil, "no image"},
		{`{"image":"registry.example.com/team/app","tag":"v1","tags":["v2"]}`, nil, "unknown field"},
		{`{"image":"registry.example.com/team/app@sha256:4e07f3bd88fb4a468d5fbf40aabb6e3b7ce6e1e0a7a9ab1bf8ae4d1e3c7d9f21","tag":"v1"}`, nil, "digest"},
		{`{"image":"registry.example.com/Team/App","tag":"v1"}`, nil, "not a valid reference"},
		{`{"image":"registry.example.com/team/app","tag":"-v1"}`, nil, "not a valid reference"},
		{`{"image":"registry.example.com/team/app","tag":1}`, nil, "wrong type"},
	} {
		a := do(t, newRequest(t, srv.URL, Generic, secret, []byte(tt.body)))
		if tt.msg == "" {
			if a.status != http.StatusOK {
				t.Errorf("%s: %d %q", tt.body, a.status, a.text)
			}
		} else if a.status != http.StatusBadRequest || !strings.Contains(a.text, tt.msg) {
			t.Errorf("%s: %d %q, want 400 saying %q", tt.body, a.status, a.text, tt.msg)
		}
		if diff := cmp.Diff(tt.want, a.hints); diff != "" {
			t.Errorf("%s: hints (-want +got):\n%s", tt.body, diff)
		}
		checkSafe(t, a.text)
	}
}

func TestHintsAreBoundedAndUnique(t *testing.T) {
	var events []any
	for i := range 3 * MaxHints {
		ev := map[string]any{"action": "push",
			"target":  map[string]any{"repository": fmt.Sprintf("team/app%d", i), "tag": "v1"},
			"request": map[string]any{"host": "registry.example.com"}}
		// Every event twice: the second is no new hint.
		events = append(events, ev, ev)
	}
	body, _ := json.Marshal(map[string]any{"events": events})
	r := httptest.NewRequest(http.MethodPost, PathPrefix+Distribution, bytes.NewReader(body))
	r.Header.Set("Authorization", "s")
	hs, err := Parse(Distribution, r, "s")
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != MaxHints {
		t.Fatalf("%d hints, want %d", len(hs), MaxHints)
	}
	seen := map[Hint]bool{}
	for i, h := range hs {
		if seen[h] {
			t.Errorf("hint %v twice", h)
		}
		seen[h] = true
		if want := fmt.Sprintf("registry.example.com/team/app%d", i); h.Image != want {
			t.Errorf("hint %d is %s, want %s: the payload's order", i, h.Image, want)
		}
	}
}

func TestEnvelopeNeedsARegistryHost(t *testing.T) {
	// A host that is no registry host would make the repository a Docker
	// Hub name; a host with a path in it is not a host.
	for _, host := range []string{"registry", "registry.example.com/evil", "", "registry.example.com:5000:1"} {
		body, _ := json.Marshal(map[string]any{"events": []any{map[string]any{"action": "push",
			"target":  map[string]any{"repository": "team/app", "tag": "v1"},
			"request": map[string]any{"host": host}}}})
		r := httptest.NewRequest(http.MethodPost, PathPrefix+Distribution, bytes.NewReader(body))
		r.Header.Set("Authorization", "s")
		hs, err := Parse(Distribution, r, "s")
		if err != nil || len(hs) != 0 {
			t.Errorf("host %q: hints %v, err %v", host, hs, err)
		}
	}
}

func TestDockerHubStaysOnDockerHub(t *testing.T) {
	body := []byte(`{"push_data":{"tag":"v1"},"repository":{"repo_name":"evil.example.com/team/app"}}`)
	r := httptest.NewRequest(http.MethodPost, PathPrefix+DockerHub+"?token=s", bytes.NewReader(body))
	hs, err := Parse(DockerHub, r, "s")
	if err != nil || len(hs) != 0 {
		t.Errorf("hints %v, err %v", hs, err)
	}
	body = []byte(`{"push_data":{"tag":"1.27"},"repository":{"repo_name":"nginx"}}`)
	r = httptest.NewRequest(http.MethodPost, PathPrefix+DockerHub+"?token=s", bytes.NewReader(body))
	hs, err = Parse(DockerHub, r, "s")
	if want := []Hint{{DockerHub, "docker.io/library/nginx", "1.27"}}; err != nil || !cmp.Equal(hs, want) {
		t.Errorf("official image: hints %v, err %v", hs, err)
	}
}

func TestHarborNameMustAgree(t *testing.T) {
	for _, tt := range []struct {
		body string
		want int
	}{
		{`{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"tag":"v1","resource_url":"harbor.example.com/p/app:v1"}],"repository":{"repo_full_name":"p/other"}}}`, 0},
		{`{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"tag":"v1","resource_url":"p/app:v1"}],"repository":{"repo_full_name":"p/app"}}}`, 0},
		{`{"type":"PULL_ARTIFACT","event_data":{"resources":[{"tag":"v1","resource_url":"harbor.example.com/p/app:v1"}],"repository":{"repo_full_name":"p/app"}}}`, 0},
		{`{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"resource_url":"harbor.example.com/p/app:v1"}],"repository":{"repo_full_name":"p/app"}}}`, 1},
		{`{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"resource_url":"harbor.example.com/p/app@sha256:4e07f3bd88fb4a468d5fbf40aabb6e3b7ce6e1e0a7a9ab1bf8ae4d1e3c7d9f21"}],"repository":{"repo_full_name":"p/app"}}}`, 0},
	} {
		r := httptest.NewRequest(http.MethodPost, PathPrefix+Harbor, strings.NewReader(tt.body))
		r.Header.Set("Authorization", "s")
		hs, err := Parse(Harbor, r, "s")
		if err != nil || len(hs) != tt.want {
			t.Errorf("%s: hints %v, err %v, want %d", tt.body, hs, err, tt.want)
		}
	}
}

func TestRequestErrors(t *testing.T) {
	body := readFixture(t, "generic.json")
	r := httptest.NewRequest(http.MethodPost, PathPrefix+"nope", bytes.NewReader(body))
	if _, err := Parse("nope\x1b[2J<b>", r, "s"); Status(err) != http.StatusNotFound {
		t.Errorf("unknown source: %v", err)
	} else {
		checkSafe(t, err.Error())
	}
	r = httptest.NewRequest(http.MethodGet, PathPrefix+Generic, nil)
	r.Header.Set(SignatureHeader, SignatureValue(nil, "s"))
	if _, err := Parse(Generic, r, "s"); Status(err) != http.StatusMethodNotAllowed {
		t.Errorf("GET: %v", err)
	}
	if Status(errors.New("other")) != http.StatusInternalServerError {
		t.Error("an error Parse did not make is not a 500")
	}
}

func TestSignatureValue(t *testing.T) {
	// The example GitHub's documentation gives for validating deliveries.
	got := SignatureValue([]byte("Hello, World!"), "It's a Secret to Everybody")
	want := "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got != want {
		t.Errorf("SignatureValue = %s, want %s", got, want)
	}
	r := httptest.NewRequest(http.MethodPost, PathPrefix+Generic, strings.NewReader("x"))
	r.Header.Set(SignatureHeader, strings.ToUpper(SignatureValue([]byte("x"), "s")[7:]))
	if _, err := Parse(Generic, r, "s"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("a signature without sha256=: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	u, _ := url.Parse("https://user:pw@laminar.example.com/webhooks/quay?token=t0p-s3cret&x=1")
	got := RedactURL(u)
	if strings.Contains(got, "t0p-s3cret") || strings.Contains(got, "pw") || !strings.Contains(got, "token=REDACTED") {
		t.Errorf("RedactURL = %s", got)
	}
	if u.RawQuery != "token=t0p-s3cret&x=1" {
		t.Errorf("RedactURL changed its argument: %s", u)
	}
}
