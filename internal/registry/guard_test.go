package registry_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/git-laminar/git-laminar/internal/registry"
)

// tokenServer is a token service that records what it was sent.
type tokenServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string // method, Authorization and body of each request
}

const issuedToken = "issued-by-the-realm-0123456789"

func newTokenServer(t *testing.T, tlsCfg *tls.Config) *tokenServer {
	ts := &tokenServer{}
	ts.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts.mu.Lock()
		ts.requests = append(ts.requests, r.Method+" "+r.Header.Get("Authorization")+" "+string(body))
		ts.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]string{"token": issuedToken})
	}))
	if tlsCfg != nil {
		ts.TLS = tlsCfg
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) received() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.requests...)
}

// bearerRegistry demands a token from realm and lists acme/app's tags to
// whoever brings it; /token on itself is a token service too.
func bearerRegistry(t *testing.T, realm func(self string) string) (*httptest.Server, *tokenServer) {
	own := &tokenServer{}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/token":
			body, _ := io.ReadAll(r.Body)
			own.mu.Lock()
			own.requests = append(own.requests, r.Method+" "+r.Header.Get("Authorization")+" "+string(body))
			own.mu.Unlock()
			json.NewEncoder(w).Encode(map[string]string{"token": issuedToken})
		case r.Header.Get("Authorization") != "Bearer "+issuedToken:
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="registry"`, realm(srv.Listener.Addr().String())))
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/v2/":
		case r.URL.Path == "/v2/acme/app/tags/list":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"name":"acme/app","tags":["v1"]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, own
}

// dockerConfig writes a docker config.json with entry for host, as docker
// login leaves it, and points DOCKER_CONFIG at it.
func dockerConfig(t *testing.T, host string, entry map[string]string) {
	dir := t.TempDir()
	b, err := json.Marshal(map[string]any{"auths": map[string]any{host: entry}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}

// localhostCert is a CA bundle and a server certificate for localhost
// that it signed.
func localhostCert(t *testing.T) (caFile string, cfg *tls.Config) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "realm CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "realm-ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})),
		&tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// A registry spoken to over plain HTTP that sends the token exchange to
// another host over plain HTTP gets an error naming that realm and the
// image; the docker config's credentials never reach it, whether as basic
// auth or as an OAuth refresh token. Its own host, and another host over
// HTTPS, still get them; and with no credentials there is nothing to keep.
func TestCredentialsOverPlainHTTPStayWithTheirRegistry(t *testing.T) {
	const pass = "docker-login-s3cret"
	basic := map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}
	identity := map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte("<token>:")), "identitytoken": "refresh-" + pass}
	caFile, tlsCfg := localhostCert(t)

	tests := []struct {
		name    string
		creds   map[string]string // docker config entry; nil: none
		tls     bool              // the other host speaks HTTPS
		sameOne bool              // the realm is the registry's own /token, as localhost
		ok      bool
		secret  bool // the realm receives the secret
	}{
		{name: "basic auth to another host", creds: basic},
		{name: "refresh token to another host", creds: identity},
		{name: "the registry's own host", creds: basic, sameOne: true, ok: true, secret: true},
		{name: "another host over https", creds: basic, tls: true, ok: true, secret: true},
		{name: "no credentials", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg *tls.Config
			if tt.tls {
				cfg = tlsCfg
			}
			other := newTokenServer(t, cfg)
			port := other.Listener.Addr().String()
			port = port[strings.LastIndex(port, ":")+1:]
			scheme := "http"
			if tt.tls {
				scheme = "https"
			}
			realm := scheme + "://localhost:" + port + "/token"
			srv, own := bearerRegistry(t, func(self string) string {
				if tt.sameOne {
					return "http://localhost:" + self[strings.LastIndex(self, ":")+1:] + "/token"
				}
				return realm
			})
			host := srv.Listener.Addr().String()
			if tt.creds != nil {
				dockerConfig(t, host, tt.creds)
			} else {
				dockerConfig(t, "elsewhere.example.com", basic)
			}
			opt := registry.Options{Keychain: authn.DefaultKeychain}
			if tt.tls {
				opt.Registries = []registry.Settings{{Prefix: "localhost:" + port, CAFile: caFile}}
			}
			c := newClient(opt)
			tags, err := c.Tags(context.Background(), host+"/acme/app")
			t.Log(err)
			got := append(other.received(), own.received()...)
			leaked := false
			for _, r := range got {
				if strings.Contains(r, pass) || strings.Contains(r, tt.creds["auth"]) && tt.creds != nil {
					leaked = true
				}
			}
			if leaked != tt.secret {
				t.Errorf("token service received the secret: %v, want %v; requests: %q", leaked, tt.secret, got)
			}
			if tt.ok {
				if err != nil || len(tags) != 1 {
					t.Fatalf("Tags = %v, %v", tags, err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range []string{"listing tags of " + host + "/acme/app: ", "refusing to send the credentials of " + host + " over plain HTTP to another host, " + realm + ": "} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			noSecret(t, err, pass, tt.creds["auth"])
		})
	}
}
