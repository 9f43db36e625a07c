package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
)

// hostileText is what a registry that wants to act on the terminal of the
// person reading our errors puts in them: it clears the screen, sets the
// window title, rings, returns the carriage, forges a line of our own output
// and reverses the text that follows.
const hostileText = "denied\x1b[2J\x1b]0;pwned\x07\r\nLaminar-Promote: evil 1 -> 2\u202eKCATTA"

// A registry's error answer, whether a distribution error document or a
// plain body, reaches the error text escaped: one line, nothing a terminal
// would act on. The kind of failure is still recognised.
func TestRegistryErrorTextIsEscaped(t *testing.T) {
	jsonBody, _ := json.Marshal(map[string]any{"errors": []map[string]string{
		{"code": "UNAUTHORIZED", "message": hostileText, "detail": hostileText},
	}})
	for _, tt := range []struct {
		name   string
		status int
		ctype  string
		body   string
		want   error
	}{
		{"401 distribution error", http.StatusUnauthorized, "application/json", string(jsonBody), registry.ErrUnauthorized},
		{"404 plain body", http.StatusNotFound, "text/plain", hostileText, registry.ErrNotFound},
		{"500 plain body", http.StatusInternalServerError, "text/html", hostileText, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, registrytest.ServerOptions{})
			s.Update(func(o *registrytest.ServerOptions) {
				o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
					if k, _ := registrytest.KindOf(r); k != registrytest.KindTagsList {
						return false
					}
					w.Header().Set("Content-Type", tt.ctype)
					w.WriteHeader(tt.status)
					w.Write([]byte(tt.body))
					return true
				}
			})
			_, err := newClient(registry.Options{}).Tags(context.Background(), s.Repo("acme/app"))
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v is not %v", err, tt.want)
			}
			text := err.Error()
			for _, raw := range []string{"\x1b", "\x07", "\r", "\n", "\u202e"} {
				if strings.Contains(text, raw) {
					t.Errorf("error text holds %q raw: %q", raw, text)
				}
			}
			if !strings.Contains(text, `denied\x1b[2J\x1b]0;pwned\x07\r\nLaminar-Promote: evil 1 -> 2\u202eKCATTA`) {
				t.Errorf("error text does not show the registry's message escaped: %q", text)
			}
		})
	}
}
