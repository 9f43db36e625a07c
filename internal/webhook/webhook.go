// Package webhook reads the push notifications that registries and forges
// send and turns each into hints: an image repository and a tag that may
// have changed. A hint is only a hint: whoever acts on it asks the registry
// again, so a payload is trusted for nothing but naming an image, and a name
// that imageref does not accept is dropped.
//
// Every source authenticates before its payload is read as JSON: a shared
// token compared in constant time, or an HMAC-SHA256 of the body. A source
// with no secret configured accepts nothing.
package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/git-laminar/git-laminar/internal/imageref"
)

// Hint names an image repository and a tag pushed to it, as one source
// reported it. Image is imageref's canonical name (Ref.Image), the spelling
// of scan --json's canonical field and of the Laminar-Promote trailers:
// "docker.io/library/nginx", "ghcr.io/acme/app",
// "registry.example.com:5000/team/app". For the registry API's spelling
// ("index.docker.io/library/nginx"), parse it with imageref and take Repo.
type Hint struct {
	Source string
	Image  string
	Tag    string
}

// The sources, each served at PathPrefix + source.
const (
	Distribution = "distribution"
	DockerHub    = "dockerhub"
	Harbor       = "harbor"
	Quay         = "quay"
	GitHub       = "github"
	GitLab       = "gitlab"
	Generic      = "generic"
)

// Sources lists every source Parse knows, in the order the documentation
// gives them.
var Sources = []string{Distribution, DockerHub, Harbor, Quay, GitHub, GitLab, Generic}

// PathPrefix is where the sources are mounted: "/webhooks/distribution" and
// so on.
const PathPrefix = "/webhooks/"

// Headers and parameters that carry secrets.
const (
	// SignatureHeader carries the generic source's signature: "sha256="
	// and the lowercase hex HMAC-SHA256 of the body, keyed with the secret,
	// as GitHub writes X-Hub-Signature-256.
	SignatureHeader = "X-Laminar-Signature-256"
	// TokenParam is the URL query parameter that carries the secret of the
	// sources that can send no header of their own choosing (Docker Hub and
	// Quay): their webhook is a bare URL.
	TokenParam = "token"

	githubSignatureHeader = "X-Hub-Signature-256"
	githubEventHeader     = "X-GitHub-Event"
	gitlabTokenHeader     = "X-Gitlab-Token"
)

// Limits on what one request may make Parse do.
const (
	// MaxBody is the most bytes of body Parse reads. The largest payloads
	// are GitHub's, which carry whole repository objects: tens of KiB.
	MaxBody = 1 << 20
	// MaxHints is the most hints one request yields; past it the rest are
	// left to the next scheduled check.
	MaxHints = 100
	// maxQuoted is how much of a value from the payload an error message
	// repeats.
	maxQuoted = 64
)

// Errors that Parse's errors wrap; Status maps each to an HTTP status.
var (
	// ErrUnauthorized: the request does not prove it comes from the
	// configured sender (a missing or wrong token or signature, or no secret
	// configured for the source). 401.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrBadPayload: the body is not a payload of the source. 400.
	ErrBadPayload = errors.New("bad payload")
	// ErrTooLarge: the body is longer than MaxBody. 413.
	ErrTooLarge = errors.New("payload too large")
	// ErrUnknownSource: no such source. 404.
	ErrUnknownSource = errors.New("unknown webhook source")
	// ErrMethod: not a POST. 405.
	ErrMethod = errors.New("method not allowed")
)

// Error is every error Parse returns. Its text is safe to send back to the
// sender and to log: it holds our words and, at most, a short quoted and
// escaped piece of the payload, never a secret.
type Error struct {
	Source string
	Msg    string
	Err    error // one of the Err variables above
	// cause is what failed under Err, if anything did: an
	// *http.MaxBytesError of a server that bounded the body itself.
	cause error
}

func (e *Error) Error() string {
	return "webhook " + e.Source + ": " + e.Msg
}

func (e *Error) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Err, e.cause}
	}
	return []error{e.Err}
}

// Status is the HTTP status a server answers a failed Parse with: 401, 400,
// 413, 404 or 405, and 500 for an error Parse did not make.
func Status(err error) int {
	switch {
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrBadPayload):
		return http.StatusBadRequest
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrUnknownSource):
		return http.StatusNotFound
	case errors.Is(err, ErrMethod):
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// Parse authenticates one webhook request of the named source with its
// secret and returns the hints its payload holds, at most MaxHints, without
// repeats, in the payload's order. A payload that names no pushed tag (a
// ping, a pull, a deletion, a push by digest) yields no hints and no error.
//
// Parse reads at most MaxBody bytes of the body and does not close it.
// Every error is an *Error; Status says which HTTP status it calls for.
func Parse(source string, r *http.Request, secret string) ([]Hint, error) {
	p, ok := parsers[source]
	if !ok {
		return nil, &Error{Source: quote(source), Msg: "no such source", Err: ErrUnknownSource}
	}
	if r.Method != http.MethodPost {
		return nil, &Error{Source: source, Msg: "only POST is accepted", Err: ErrMethod}
	}
	if secret == "" {
		return nil, &Error{Source: source, Msg: "no secret is configured for this source", Err: ErrUnauthorized}
	}
	// Sources whose proof is in the headers or the URL are checked before
	// the body is read; those that sign the body, after.
	if p.auth != nil {
		if err := p.auth(r, secret); err != nil {
			return nil, err.in(source)
		}
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err.in(source)
	}
	if p.authBody != nil {
		if err := p.authBody(r, body, secret); err != nil {
			return nil, err.in(source)
		}
	}
	var hs hints
	hs.source = source
	if err := p.parse(r, body, &hs); err != nil {
		return nil, err.in(source)
	}
	return hs.list, nil
}

// failure is an Error before its source is known.
type failure struct {
	msg   string
	err   error
	cause error
}

func (f *failure) in(source string) *Error {
	return &Error{Source: source, Msg: f.msg, Err: f.err, cause: f.cause}
}

func unauthorized(msg string) *failure { return &failure{msg: msg, err: ErrUnauthorized} }

func badPayload(format string, args ...any) *failure {
	return &failure{msg: fmt.Sprintf(format, args...), err: ErrBadPayload}
}

type parser struct {
	auth     func(r *http.Request, secret string) *failure
	authBody func(r *http.Request, body []byte, secret string) *failure
	parse    func(r *http.Request, body []byte, hs *hints) *failure
}

var parsers = map[string]parser{
	Distribution: {auth: authorizationHeader, parse: parseEnvelope},
	DockerHub:    {auth: queryToken, parse: parseDockerHub},
	Harbor:       {auth: authorizationHeader, parse: parseHarbor},
	Quay:         {auth: queryToken, parse: parseQuay},
	GitHub:       {authBody: githubSignature, parse: parseGitHub},
	GitLab:       {auth: gitlabToken, parse: parseEnvelope},
	Generic:      {authBody: genericSignature, parse: parseGeneric},
}

func readBody(r *http.Request) ([]byte, *failure) {
	if r.ContentLength > MaxBody {
		return nil, &failure{msg: fmt.Sprintf("the body is longer than %d bytes", MaxBody), err: ErrTooLarge}
	}
	if r.Body == nil {
		// An empty body is bad JSON, said after the proof is checked.
		return nil, nil
	}
	tooLarge := &failure{msg: fmt.Sprintf("the body is longer than %d bytes", MaxBody), err: ErrTooLarge}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	// A server may have bounded the body already, with
	// http.MaxBytesReader, and perhaps more tightly.
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, &failure{fmt.Sprintf("the body is longer than %d bytes", mbe.Limit), ErrTooLarge, mbe}
	case err != nil:
		return nil, badPayload("reading the body: %s", quote(err.Error()))
	case len(body) > MaxBody:
		return nil, tooLarge
	}
	return body, nil
}

// sameSecret compares a presented secret with the configured one in time
// that depends on neither: both are hashed first, so their lengths do not
// show either.
func sameSecret(got, want string) bool {
	g := sha256.Sum256([]byte(got))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// authorizationHeader checks the Authorization header that the
// distribution registry sends from its endpoint's headers and Harbor from a
// policy's auth header. The header is either the secret itself or
// "Bearer " and the secret, so both "Bearer s3cret" and "s3cret" may be
// configured for a registry that sends "Authorization: Bearer s3cret".
func authorizationHeader(r *http.Request, secret string) *failure {
	vs := r.Header.Values("Authorization")
	if len(vs) == 0 {
		return unauthorized("no Authorization header")
	}
	if len(vs) > 1 {
		return unauthorized("more than one Authorization header")
	}
	got := vs[0]
	ok := sameSecret(got, secret)
	if rest, found := strings.CutPrefix(got, "Bearer "); found {
		// Both comparisons always run, so which one matched does not
		// show in the time taken.
		ok = sameSecret(rest, secret) || ok
	}
	if !ok {
		return unauthorized("the Authorization header does not match")
	}
	return nil
}

func gitlabToken(r *http.Request, secret string) *failure {
	vs := r.Header.Values(gitlabTokenHeader)
	if len(vs) != 1 {
		return unauthorized("want one " + gitlabTokenHeader + " header")
	}
	if !sameSecret(vs[0], secret) {
		return unauthorized("the " + gitlabTokenHeader + " header does not match")
	}
	return nil
}

// queryToken checks the token in the URL of sources whose webhook settings
// are a URL and nothing more. The token is then in the sender's settings
// and in the URL the request was made to: RedactURL removes it for logs.
func queryToken(r *http.Request, secret string) *failure {
	vs := r.URL.Query()[TokenParam]
	if len(vs) != 1 {
		return unauthorized("want one " + TokenParam + " parameter in the URL")
	}
	if !sameSecret(vs[0], secret) {
		return unauthorized("the " + TokenParam + " parameter does not match")
	}
	return nil
}

func githubSignature(r *http.Request, body []byte, secret string) *failure {
	return hmacHeader(r, githubSignatureHeader, body, secret)
}

func genericSignature(r *http.Request, body []byte, secret string) *failure {
	return hmacHeader(r, SignatureHeader, body, secret)
}

// hmacHeader checks a header of the form "sha256=<hex HMAC-SHA256 of the
// body>".
func hmacHeader(r *http.Request, header string, body []byte, secret string) *failure {
	vs := r.Header.Values(header)
	if len(vs) != 1 {
		return unauthorized("want one " + header + " header")
	}
	hexSig, ok := strings.CutPrefix(vs[0], "sha256=")
	if !ok {
		return unauthorized("the " + header + " header does not start with sha256=")
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return unauthorized("the " + header + " header is not a hex SHA-256")
	}
	if !hmac.Equal(got, Sign(body, secret)) {
		return unauthorized("the " + header + " header does not match the body")
	}
	return nil
}

// Sign is the HMAC-SHA256 of body keyed with secret, as GitHub and the
// generic source sign a payload.
func Sign(body []byte, secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

// SignatureValue is the header value that signs body with secret:
// "sha256=" and the HMAC in lowercase hex.
func SignatureValue(body []byte, secret string) string {
	return "sha256=" + hex.EncodeToString(Sign(body, secret))
}

// RedactURL is u as text with the value of the token parameter replaced,
// for a log line about a request to a source that carries its secret in the
// URL.
func RedactURL(u *url.URL) string {
	c := *u
	c.User = nil
	q := c.Query()
	if _, ok := q[TokenParam]; ok {
		q[TokenParam] = []string{"REDACTED"}
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// hints collects the hints of one request: valid names only, no repeats, at
// most MaxHints.
type hints struct {
	source string
	list   []Hint
}

// add records image (a name without tag or digest, as the payload wrote
// it) and tag if both are valid. A name with a tag or digest of its own is
// garbage here: the payload keeps the tag elsewhere.
func (hs *hints) add(image, tag string) {
	if len(hs.list) >= MaxHints || !imageref.ValidTag(tag) {
		return
	}
	ref, err := imageref.Parse(image)
	if err != nil || ref.Tag != "" || ref.Digest != "" {
		return
	}
	h := Hint{Source: hs.source, Image: ref.Image(), Tag: tag}
	for _, x := range hs.list {
		if x == h {
			return
		}
	}
	hs.list = append(hs.list, h)
}

// lowerHost lowercases the registry part of name, if it has one: host names
// are not case-sensitive, and imageref keeps the case it is given.
func lowerHost(name string) string {
	first, rest, ok := strings.Cut(name, "/")
	if ok && (first == "localhost" || strings.ContainsAny(first, ".:")) {
		return strings.ToLower(first) + "/" + rest
	}
	return name
}

// quote makes a value from a request fit for an error message: cut to
// maxQuoted bytes, quoted with every byte outside printable ASCII escaped,
// and '<', '>' and '&' escaped too so that a message shown in a page cannot
// become markup.
func quote(s string) string {
	cut := len(s) > maxQuoted
	if cut {
		s = s[:maxQuoted]
	}
	q := strconv.QuoteToASCII(s)
	var b bytes.Buffer
	for i := 0; i < len(q); i++ {
		switch c := q[i]; c {
		case '<', '>', '&':
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	if cut {
		b.WriteString("...")
	}
	return b.String()
}
