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
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// noSecret fails if any form of secret shows in what an error prints, in
// any verb.
func noSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, text := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%q", err)} {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("error leaks a secret: %s", text)
			}
		}
	}
}

// Credentials named by password_env or password_file reach a registry
// that demands them; missing or wrong ones fail as unauthorized, saying
// where they were configured and never what they are.
func TestConfiguredCredentials(t *testing.T) {
	const secret = "s3cret-T0ken-value"
	wrongFile := writeFile(t, "wrong", []byte("not-the-token\n"))
	rightFile := writeFile(t, "right", []byte(secret+"\n"))
	env := map[string]string{"RIGHT": secret, "WRONG": "not-the-token"}
	getenv := func(k string) string { return env[k] }

	tests := []struct {
		name     string
		settings registry.Settings // Prefix filled in
		path     string            // settings prefix path below the host
		docker   *authn.AuthConfig // default keychain entry for the host
		want     error
		wantText []string
		secrets  []string
	}{
		{name: "password_env", settings: registry.Settings{Username: user, PasswordEnv: "RIGHT"}},
		{name: "password_file, newline trimmed", settings: registry.Settings{Username: user, PasswordFile: rightFile}},
		{name: "prefix with a path", path: "/acme", settings: registry.Settings{Username: user, PasswordFile: rightFile}},
		{name: "prefix of another path", path: "/other", settings: registry.Settings{Username: user, PasswordFile: rightFile},
			want: registry.ErrUnauthorized, wantText: []string{"no credentials found"}},
		{name: "wrong password from env", settings: registry.Settings{Username: user, PasswordEnv: "WRONG"},
			want: registry.ErrUnauthorized, wantText: []string{"rejected"}, secrets: []string{"not-the-token"}},
		{name: "wrong password from file", settings: registry.Settings{Username: user, PasswordFile: wrongFile},
			want: registry.ErrUnauthorized, wantText: []string{"rejected"}, secrets: []string{"not-the-token"}},
		{name: "variable not set", settings: registry.Settings{Username: user, PasswordEnv: "UNSET", Source: "config.toml:3"},
			want: registry.ErrUnauthorized, wantText: []string{"password_env: environment variable UNSET is not set (registry settings at config.toml:3)"}},
		{name: "file missing", settings: registry.Settings{Username: user, PasswordFile: "/nonexistent/token"},
			want: registry.ErrUnauthorized, wantText: []string{"password_file /nonexistent/token: no such file or directory"}},
		{name: "docker's credentials come first", settings: registry.Settings{Username: user, PasswordEnv: "RIGHT"},
			docker: &authn.AuthConfig{Username: user, Password: "docker-password"}, want: registry.ErrUnauthorized,
			secrets: []string{"docker-password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{})
			seed(t, s, "acme/app", "v1")
			s.Update(func(o *registrytest.ServerOptions) { o.Username, o.Password = user, secret })
			st := tt.settings
			st.Prefix = s.Host() + tt.path
			kc := keychain{}
			if tt.docker != nil {
				kc[s.Host()] = *tt.docker
			}
			c := newClient(registry.Options{Keychain: kc, Registries: []registry.Settings{st}, Getenv: getenv})
			_, err := c.Tags(context.Background(), s.Repo("acme/app"))
			checkKind(t, err, tt.want)
			if err == nil {
				if _, err := c.Image(context.Background(), s.Repo("acme/app"), "v1"); err != nil {
					t.Errorf("Image: %v", err)
				}
				return
			}
			t.Log(err)
			for _, w := range tt.wantText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			noSecret(t, err, append(tt.secrets, secret, base64.StdEncoding.EncodeToString([]byte(user+":"+secret)))...)
		})
	}
}

// A registry may echo what it was sent, including a bearer token it
// issued itself: the client cuts credentials of every kind out of errors.
func TestEchoedBearerToken(t *testing.T) {
	const secret = "configured-secret-42"
	const issued = "issued.bearer-token.0123456789abcdef"
	var ts *httptest.Server
	ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/token":
			u, p, _ := r.BasicAuth()
			if u != user || p != secret {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			json.NewEncoder(w).Encode(map[string]string{"token": issued, "access_token": issued})
		case r.Header.Get("Authorization") != "Bearer "+issued:
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="echo"`, ts.URL))
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/v2/":
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `{"errors":[{"code":"DENIED","message":"denied for %s; your token: {\"token\": \"%s\"}"}]}`, r.Header.Get("Authorization"), issued)
		}
	}))
	defer ts.Close()
	host := strings.TrimPrefix(ts.URL, "http://")
	c := newClient(registry.Options{
		Registries: []registry.Settings{{Prefix: host, Username: user, PasswordEnv: "TOKEN"}},
		Getenv:     func(string) string { return secret },
	})
	_, err := c.Tags(context.Background(), host+"/acme/app")
	checkKind(t, err, registry.ErrUnauthorized)
	t.Log(err)
	noSecret(t, err, issued, secret)
	if err != nil && !strings.Contains(err.Error(), "denied for Bearer [redacted]") {
		t.Errorf("error %q lost the registry's message", err)
	}
}

// certs makes a CA and a client certificate it signed, as PEM files.
func certs(t *testing.T) (caPool *x509.CertPool, caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "laminar"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	caPool = x509.NewCertPool()
	caPool.AddCert(ca)
	return caPool,
		writeFile(t, "ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})),
		writeFile(t, "client.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		writeFile(t, "client.key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
}

// A registry with a certificate from a private CA is reached with ca_file
// (and not without), one demanding a client certificate with cert_file and
// key_file; insecure skips verification. A host with TLS settings speaks
// HTTPS even on 127.0.0.1, where ggcr would speak HTTP.
func TestTLS(t *testing.T) {
	clientCAs, otherCA, certFile, keyFile := certs(t)
	plain := registrytest.NewServer(registrytest.ServerOptions{TLS: &tls.Config{}})
	defer plain.Close()
	mtls := registrytest.NewServer(registrytest.ServerOptions{TLS: &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}})
	defer mtls.Close()
	for _, s := range []*registrytest.Server{plain, mtls} {
		if _, err := registrytest.Push(context.Background(), s.SeedRepo("acme/app:v1"), t0); err != nil {
			t.Fatal(err)
		}
	}
	plainCA := writeFile(t, "plain-ca.pem", plain.CertificatePEM())
	mtlsCA := writeFile(t, "mtls-ca.pem", mtls.CertificatePEM())
	notPEM := writeFile(t, "not.pem", []byte("hello"))

	tests := []struct {
		name     string
		server   *registrytest.Server
		settings registry.Settings
		ok       bool
		wantText string
	}{
		{"CA bundle", plain, registry.Settings{CAFile: plainCA}, true, ""},
		{"no CA bundle", plain, registry.Settings{}, false, ""},
		{"another CA", plain, registry.Settings{CAFile: otherCA}, false, "certificate signed by unknown authority"},
		{"insecure", plain, registry.Settings{Insecure: true}, true, ""},
		{"client certificate", mtls, registry.Settings{CAFile: mtlsCA, CertFile: certFile, KeyFile: keyFile}, true, ""},
		{"client certificate missing", mtls, registry.Settings{CAFile: mtlsCA}, false, ""},
		{"ca_file not PEM", plain, registry.Settings{CAFile: notPEM, Source: "laminar.toml:7"}, false, "no PEM certificate in it (registry settings at laminar.toml:7)"},
		{"key_file missing", mtls, registry.Settings{CAFile: mtlsCA, CertFile: certFile, KeyFile: "/nonexistent.key"}, false, "key_file /nonexistent.key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.settings
			st.Prefix = tt.server.Host()
			c := newClient(registry.Options{Registries: []registry.Settings{st}})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tags, err := c.Tags(ctx, tt.server.Repo("acme/app"))
			if tt.ok {
				if err != nil || len(tags) != 1 {
					t.Fatalf("Tags = %v, %v", tags, err)
				}
				if info, err := c.Image(ctx, tt.server.Repo("acme/app"), "v1"); err != nil || !info.Created.Equal(t0) {
					t.Errorf("Image = %+v, %v", info, err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
		})
	}
}

// insecure falls back to plain HTTP for a host that does not speak TLS.
func TestInsecurePlainHTTP(t *testing.T) {
	s := newServer(t, registrytest.ServerOptions{})
	seed(t, s, "acme/app", "v1")
	c := newClient(registry.Options{Registries: []registry.Settings{{Prefix: s.Host(), Insecure: true}}})
	for range 2 {
		if tags, err := c.Tags(context.Background(), s.Repo("acme/app")); err != nil || len(tags) != 1 {
			t.Fatalf("Tags = %v, %v", tags, err)
		}
		if _, err := c.Image(context.Background(), s.Repo("acme/app"), "v1"); err != nil {
			t.Fatal(err)
		}
	}
}
