package registry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// The kinds of failure a command line can explain to a person. Every error
// returned by this package is an *Error, and errors.Is(err, ErrX) tells which
// kind it is; an error of none of these kinds is "other" (a registry that
// answered 500, a malformed manifest, a cancelled context, ...).
var (
	// ErrUnreachable: no answer from the registry at all (connection
	// refused or reset, DNS failure, timeout). Retrying later or fixing the
	// host name helps; credentials do not.
	ErrUnreachable = errors.New("registry unreachable")
	// ErrUnauthorized: the registry answered 401 or 403. Either no
	// credentials were found for it, or the ones found were rejected.
	ErrUnauthorized = errors.New("authentication required or denied; check docker login / credential helper")
	// ErrNotFound: the repository, tag or digest does not exist (404,
	// NAME_UNKNOWN, MANIFEST_UNKNOWN). Registries that hide private
	// repositories from anonymous users also answer this way.
	ErrNotFound = errors.New("not found")
	// ErrRateLimited: the registry answered 429 Too Many Requests and kept
	// doing so through the retries, or asked to wait (Retry-After, a spent
	// quota) longer than a request may take. Waiting, a lower rps for the registry, or logging in (for
	// registries with higher limits for known users) helps.
	ErrRateLimited = errors.New("rate limited by the registry")
)

// Error is what every operation of this package returns on failure: what we
// were doing, to which image, which kind of failure it was, and the cause.
//
// Its text never contains credentials: the cause is rendered once, when the
// Error is made, and every secret the keychain handed out for this client is
// cut out of it (see redactor). Unwrap still gives the original cause so that
// errors.Is(err, context.Canceled) and friends keep working.
type Error struct {
	Op    string // "listing tags of", "reading", "resolving"
	Image string // "host[:port]/path", with ":tag" or "@digest" where one was asked for
	Kind  error  // ErrUnreachable, ErrUnauthorized, ErrNotFound, ErrRateLimited, or nil for other
	Hint  string // optional extra advice, e.g. whether credentials were sent
	Err   error  // the underlying cause

	text string // Err's text with secrets removed
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(" ")
	b.WriteString(e.Image)
	b.WriteString(": ")
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
		if e.Hint != "" {
			b.WriteString(" (" + e.Hint + ")")
		}
		b.WriteString(": ")
	}
	b.WriteString(e.text)
	return b.String()
}

// GoString keeps %#v to the scrubbed text: the cause may hold what a
// registry echoed back.
func (e *Error) GoString() string { return "&registry.Error{" + strconv.Quote(e.Error()) + "}" }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnauthorized) (etc.) true for an Error of that
// kind without putting the sentinel into the chain of causes.
func (e *Error) Is(target error) bool { return e.Kind != nil && target == e.Kind }

// afterDeadline names the cause of ctx's end in err, when ctx ended with
// a cause of its own (a command's --timeout, say) and err came of it: a
// person then reads which deadline passed rather than "context deadline
// exceeded".
func afterDeadline(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	cause := context.Cause(ctx)
	if cause == nil || cause == ctx.Err() || !errors.Is(err, ctx.Err()) && !errors.Is(err, cause) {
		return err
	}
	var e *Error
	if !errors.As(err, &e) || strings.Contains(e.text, cause.Error()) {
		return err
	}
	named := *e
	named.text = cause.Error() + " (" + e.text + ")"
	return &named
}

// kindError is a failure whose kind its maker knew (an API's own error
// codes, which are not HTTP statuses): classify takes the kind as said.
type kindError struct {
	kind error // ErrNotFound, ErrUnauthorized, ErrRateLimited, or nil for other
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

// classify maps a failure from ggcr or net/http to one of the sentinels, or
// nil for "other". The order matters: a registry's HTTP answer is checked
// before network errors, and a cancelled context is never "unreachable".
func classify(err error) error {
	var kerr *kindError
	if errors.As(err, &kerr) {
		return kerr.kind
	}
	var lerr *LimitError
	if errors.As(err, &lerr) {
		return ErrLimit
	}
	var cerr *CredentialError
	var nerr *noCredentialsError
	if errors.As(err, &cerr) || errors.As(err, &nerr) {
		return ErrUnauthorized
	}
	var perr *pausedError
	if errors.As(err, &perr) {
		return ErrRateLimited
	}
	if errors.Is(err, ErrNotFound) {
		return ErrNotFound // an API's answer that names nothing, as GitLab's GraphQL does with 200
	}
	var aerr *APIError
	if errors.As(err, &aerr) {
		switch {
		case aerr.StatusCode == http.StatusTooManyRequests || aerr.RateLimited:
			return ErrRateLimited
		case aerr.StatusCode == http.StatusUnauthorized || aerr.StatusCode == http.StatusForbidden:
			return ErrUnauthorized
		case aerr.StatusCode == http.StatusNotFound:
			return ErrNotFound
		}
		return nil
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		if terr.StatusCode == http.StatusTooManyRequests {
			return ErrRateLimited
		}
		for _, d := range terr.Errors {
			switch d.Code {
			case transport.TooManyRequestsErrorCode:
				return ErrRateLimited
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return ErrUnauthorized
			case transport.NameUnknownErrorCode, transport.ManifestUnknownErrorCode, transport.BlobUnknownErrorCode:
				return ErrNotFound
			}
		}
		switch terr.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return ErrUnauthorized
		case http.StatusNotFound:
			return ErrNotFound
		}
		return nil
	}
	switch {
	case errors.Is(err, context.Canceled):
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return ErrUnreachable
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	if errors.As(err, &dnsErr) || errors.As(err, &opErr) {
		return ErrUnreachable
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return ErrUnreachable
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EHOSTUNREACH, syscall.ENETUNREACH} {
		if errors.Is(err, errno) {
			return ErrUnreachable
		}
	}
	return nil
}
