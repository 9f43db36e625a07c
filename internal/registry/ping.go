package registry

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/sync/singleflight"
)

// pings answers ggcr's authentication pings (GET /v2/) once per scheme and
// host for the whole run. ggcr pings before the first request of every
// repository, and for a loopback or private host tries HTTPS first: a run
// over hundreds of repositories of one host would otherwise spend a
// request, a rate token and a slot of the repository's budget on each, for
// the same answer every time. Concurrent pings of one host share the one
// in flight.
//
// Only what ggcr acts on is kept: a 200 or a 401 with its challenge
// headers, and an HTTPS ping answered in plain HTTP (the scheme decision). Any
// other failure is not remembered, so the next repository asks again.
type pings struct {
	group singleflight.Group
	mu    sync.Mutex
	done  map[string]pingAnswer // by scheme://host
}

type pingAnswer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// maxPingBody bounds the ping body kept: ggcr discards it, registries send
// a few bytes of JSON.
const maxPingBody = 4 << 10

func isPing(req *http.Request) bool {
	p := req.URL.Path
	return req.Method == http.MethodGet && (p == "/v2/" || p == "/v2") && req.URL.RawQuery == "" &&
		req.Header.Get("Authorization") == ""
}

// ping answers req from what the host said before, or sends it with send
// and keeps the answer if it is worth keeping.
func (ps *pings) ping(req *http.Request, send func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	key := req.URL.Scheme + "://" + req.URL.Host
	ps.mu.Lock()
	a, ok := ps.done[key]
	ps.mu.Unlock()
	if !ok {
		v, err, _ := ps.group.Do(key, func() (any, error) {
			// A caller that missed the answer above may arrive here just
			// after the ping that made it left the group: it must not ping
			// again.
			ps.mu.Lock()
			a, ok := ps.done[key]
			ps.mu.Unlock()
			if ok {
				return a, nil
			}
			a, keep := pingOnce(req, send)
			if keep {
				ps.mu.Lock()
				if ps.done == nil {
					ps.done = map[string]pingAnswer{}
				}
				ps.done[key] = a
				ps.mu.Unlock()
			}
			return a, nil
		})
		if err != nil {
			return nil, err
		}
		a = v.(pingAnswer)
	}
	if a.err != nil {
		return nil, a.err
	}
	return &http.Response{
		Status:        http.StatusText(a.status),
		StatusCode:    a.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        a.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(a.body)),
		ContentLength: int64(len(a.body)),
		Request:       req,
	}, nil
}

func pingOnce(req *http.Request, send func(*http.Request) (*http.Response, error)) (pingAnswer, bool) {
	resp, err := send(req)
	if err != nil {
		return pingAnswer{err: err}, req.URL.Scheme == "https" && req.Context().Err() == nil && answeredPlain(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPingBody))
	if err != nil {
		return pingAnswer{err: err}, false
	}
	a := pingAnswer{status: resp.StatusCode, header: resp.Header.Clone(), body: body}
	return a, resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized
}

// answeredPlain reports whether err says the server answered HTTPS with
// plain HTTP: the scheme decision, kept for the run. A refused or dropped
// connection (which notTLS also takes for no TLS) may be a passing fault:
// it is not kept.
func answeredPlain(err error) bool {
	var rhe tls.RecordHeaderError
	return errors.As(err, &rhe) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}
