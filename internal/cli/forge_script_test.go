package cli

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/git-laminar/git-laminar/internal/forge/forgetest"
	"github.com/rogpeppe/go-internal/testscript"
)

// forges holds each script's forge stand-in, keyed by its work directory.
var forges sync.Map

// ForgeToken is the token the scripts' forges accept.
const ForgeToken = "forge-secret-7f3a9c"

// cmdForge runs a forge's stand-in on 127.0.0.1 for acme/deploy:
//
//	forge start KIND    start it (github, gitlab or gitea); sets $FORGE_API and
//	                    $FORGE_TOKEN, and knows the label "deps" and the user "alice"
//	forge pulls         print each request: "#N STATE HEAD->BASE", then its title,
//	                    labels, reviewers, draft and auto-merge, body and comments
func cmdForge(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: forge start KIND | forge pulls")
	}
	switch args[0] {
	case "start":
		if len(args) != 2 {
			ts.Fatalf("usage: forge start KIND")
		}
		s := forgetest.New(args[1], ForgeToken, "acme", "deploy")
		s.Labels = []string{"deps"}
		s.Users = []string{"alice"}
		ts.Defer(s.Close)
		forges.Store(ts.Getenv("WORK"), s)
		ts.Setenv("FORGE_API", s.APIURL())
		ts.Setenv("FORGE_TOKEN", ForgeToken)
	case "pulls":
		v, ok := forges.Load(ts.Getenv("WORK"))
		if !ok {
			ts.Fatalf("no forge started")
		}
		s := v.(*forgetest.Server)
		var b strings.Builder
		for _, p := range s.Pulls() {
			fmt.Fprintf(&b, "#%d %s %s->%s\ntitle: %s\nlabels: %s\nreviewers: %s%v\ndraft: %v\nauto-merge: %v\n", p.Number, p.State, p.Head, p.Base,
				p.Title, strings.Join(p.Labels, ","), strings.Join(p.Reviewers, ","), p.ReviewerIDs, p.Draft, p.AutoMerge)
			for _, l := range strings.Split(p.Body, "\n") {
				fmt.Fprintf(&b, "body: %s\n", l)
			}
			for _, c := range p.Comments {
				fmt.Fprintf(&b, "comment: %s\n", c)
			}
		}
		ts.Stdout().Write([]byte(b.String()))
	default:
		ts.Fatalf("usage: forge start KIND | forge pulls")
	}
}

// TestPullRequestScripts runs the scripts in testdata/pullrequest once per
// forge, with $FORGE set to its name.
func TestPullRequestScripts(t *testing.T) {
	for _, kind := range []string{"github", "gitlab", "gitea"} {
		t.Run(kind, func(t *testing.T) {
			testscript.Run(t, scriptParams("testdata/pullrequest", map[string]string{"FORGE": kind}))
		})
	}
}
