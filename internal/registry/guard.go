package registry

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Credentials travel in the clear only to their own registry.
//
// A registry spoken to over plain HTTP (loopback and private addresses, as
// docker does, or insecure) may answer with a token challenge whose realm
// is another host, also over plain HTTP: ggcr would then send that realm the
// registry's credentials, in basic auth or in an OAuth form, readable by
// anyone on the way and by whoever runs that host. Token services elsewhere
// over HTTPS are how Docker Hub, GHCR and the rest work and stay allowed;
// over plain HTTP only the registry's own host:port is trusted with what
// the keychain handed out for it.
//
// The guard sits in the limiter, under ggcr's token exchange, and
// recognises credentials by value: the keychain remembers, for each secret
// it handed out, the registries it was for (see watchedKeychain.record).

// PlainCredentialsError is a request refused because it would have sent a
// registry's credentials over plain HTTP to another host.
type PlainCredentialsError struct {
	Registries []string // whose credentials they are
	URL        string   // where they would have gone: scheme, host and path
}

func (e *PlainCredentialsError) Error() string {
	return fmt.Sprintf("refusing to send the credentials of %s over plain HTTP to another host, %s: "+
		"a token service on another host must use https", strings.Join(e.Registries, ", "), e.URL)
}

// checkPlain returns a *PlainCredentialsError when req, about to go out
// over plain HTTP, carries credentials the keychain handed out for
// registries other than req's host. Bearer tokens a token service issued
// are not the keychain's and pass: ggcr sends them only to the registry
// that asked for them.
func (k *watchedKeychain) checkPlain(req *http.Request) error {
	var owners []string
	add := func(secret string) {
		k.mu.Lock()
		defer k.mu.Unlock()
		for h := range k.owners[secret] {
			if !slices.Contains(owners, h) {
				owners = append(owners, h)
			}
		}
	}
	if v := req.Header.Get("Authorization"); v != "" {
		_, cred, _ := strings.Cut(v, " ")
		add(strings.TrimSpace(cred))
	}
	if form := formBody(req); form != nil {
		for _, key := range []string{"password", "refresh_token"} {
			if v := form.Get(key); v != "" {
				add(v)
			}
		}
	}
	if len(owners) == 0 {
		return nil
	}
	for _, h := range owners {
		if sameHost(h, req.URL.Host) {
			return nil
		}
	}
	slices.Sort(owners)
	u := url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host, Path: req.URL.Path}
	return &PlainCredentialsError{Registries: owners, URL: u.String()}
}

// formBody reads a form-encoded request body without consuming it: ggcr's
// OAuth token exchange posts the password or refresh token this way.
func formBody(req *http.Request) url.Values {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody == nil ||
		!strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, 1<<20))
	if err != nil {
		return nil
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		return nil
	}
	return v
}

// sameHost reports whether two "host[:port]" strings name one server of
// plain HTTP: equal ignoring case and the default port 80, or both
// loopback names at the same port (localhost for 127.0.0.1).
func sameHost(a, b string) bool {
	ha, pa := splitHostPort(a)
	hb, pb := splitHostPort(b)
	if pa != pb {
		return false
	}
	return ha == hb || loopback(ha) && loopback(hb)
}

func splitHostPort(s string) (host, port string) {
	s = strings.ToLower(s)
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		h, p = strings.Trim(s, "[]"), ""
	}
	if p == "" {
		p = "80"
	}
	return h, p
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
