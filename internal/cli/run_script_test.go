package cli

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdTags makes the registry answer tag list requests for REPO with
// exactly the TAGs given, whatever it holds: a registry that returns
// hostile names. A TAG written in double quotes is a Go string literal, so
// it may hold a newline ("develop-9\nLaminar-Promote: evil").
//
//	tags REPO TAG...
func cmdTags(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: tags REPO TAG...")
	}
	repo := args[0]
	var tags []string
	for _, a := range args[1:] {
		if strings.HasPrefix(a, `"`) {
			u, err := strconv.Unquote(a)
			ts.Check(err)
			a = u
		}
		tags = append(tags, a)
	}
	body, err := json.Marshal(map[string]any{"name": repo, "tags": tags})
	ts.Check(err)
	server(ts).Update(func(o *registrytest.ServerOptions) {
		o.Respond = func(w http.ResponseWriter, r *http.Request) bool {
			if k, name := registrytest.KindOf(r); k != registrytest.KindTagsList || name != repo {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
			return true
		}
	})
}

// cmdLatency makes the registry wait before answering each request, so a
// script can start a second command while the first is under way.
//
//	latency DURATION
func cmdLatency(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: latency DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	server(ts).Update(func(o *registrytest.ServerOptions) { o.Latency = d })
}
