package cli

import (
	"context"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/registry"
	"github.com/git-laminar/git-laminar/internal/registry/registrytest"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/term"
)

// TestMain lets testscript run git-laminar in-process as a command, and puts
// it on PATH so scripts can also call it as "git laminar".
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"git-laminar": func() {
			// As main does: SIGINT and SIGTERM end the context (serve
			// stops taking work and exits 0).
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			os.Exit(Run(ctx, os.Args, Streams{
				In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
				IsTTY: func(f any) bool {
					file, ok := f.(*os.File)
					return ok && term.IsTerminal(int(file.Fd()))
				},
				Getenv: os.Getenv,
			}))
		},
		// As if every stream were a terminal: for prompts and colour.
		"git-laminar-tty": func() {
			os.Exit(Run(context.Background(), os.Args, Streams{
				In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
				IsTTY:  func(any) bool { return true },
				Getenv: os.Getenv,
			}))
		},
	})
}

// servers holds each script's registry, keyed by its work directory.
var servers sync.Map

func server(ts *testscript.TestScript) *registrytest.Server {
	s, ok := servers.Load(ts.Getenv("WORK"))
	if !ok {
		ts.Fatalf("no registry for this script")
	}
	return s.(*registrytest.Server)
}

// TestScripts runs the end-to-end scripts in testdata/script. Each script has
// its own registry on 127.0.0.1 ($REGISTRY), an empty HOME and a git
// identity, and these commands:
//
//	push REPO TAG...        push TAGs to $REGISTRY/REPO, each created a minute after the previous;
//	                        TAG@N creates it N minutes after the epoch (a new image, so a new digest)
//	digest VAR REPO TAG     set $VAR to the digest of $REGISTRY/REPO:TAG
//	crlf FILE...            give FILEs CRLF line ends (txtar archives cannot hold them)
//	subst FILE...           replace $REGISTRY, $HOSTILE and every $VAR set by digest, in FILEs
//	registry fail STATUS [KIND [REPO]]  answer every request (or requests of KIND: tags, manifest,
//	                        blob, any; about REPO) with STATUS
//	registry auth USER PASS demand basic auth
//	registry ok             undo fail and auth
//	registry harbor         serve Harbor's artifact API too (with push times)
//	registry dockerhub      serve Docker Hub's tags API too (with push times)
//	registry ghcr|gar       serve GitHub's packages API or Artifact Registry's REST API too
//	registry gitlab PROJECT...  serve GitLab's GraphQL API too, with these projects
//	registry acr USER PASS  authenticate as ACR does and serve its tag API
//	pushed REPO TAG@N...    the listing APIs say TAG of REPO was pushed N minutes after the epoch
//	registry down           stop the registry: connections are refused
//	tags REPO TAG...        answer tag lists of REPO with these TAGs ("..." quoted: Go escapes)
//	latency DURATION        wait DURATION before answering each request
//	webhook start ...       a webhook (see cmdWebhook)
//	hostile start ...       a hostile registry that keeps what it is sent (see cmdHostile)
//	forge start KIND        a forge's stand-in (see cmdForge)
//	waitfor PATH            wait until PATH exists (what a background command makes)
func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams("testdata/script", nil))
}

// scriptParams are the scripts' setup and commands for the scripts in
// dir; env, when set, adds to each script's environment.
func scriptParams(dir string, env map[string]string) testscript.Params {
	return testscript.Params{
		Dir: dir,
		Setup: func(e *testscript.Env) error {
			for k, v := range env {
				e.Setenv(k, v)
			}
			return scriptSetup(e)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"push":     cmdPush,
			"pushed":   cmdPushed,
			"subst":    cmdSubst,
			"registry": cmdRegistry,
			"crlf":     cmdCRLF,
			"digest":   cmdDigest,
			"tags":     cmdTags,
			"latency":  cmdLatency,
			"webhook":  cmdWebhook,
			"hostile":  cmdHostile,
			"forge":    cmdForge,
			"waitfor":  cmdWaitFor,
		},
		RequireExplicitExec: true,
	}
}

func scriptSetup(env *testscript.Env) error {
	srv := registrytest.NewServer(registrytest.ServerOptions{})
	env.Defer(srv.Close)
	servers.Store(env.WorkDir, srv)
	home := filepath.Join(env.WorkDir, ".home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	for k, v := range map[string]string{
		"REGISTRY": srv.Host(), "HOME": home, "XDG_CONFIG_HOME": home, "DOCKER_CONFIG": filepath.Join(home, ".docker"),
		// The registry cache: outside the repository (removed with
		// it), and no tag list reused across runs, since scripts
		// change the registry between runs.
		"XDG_CACHE_HOME": env.WorkDir + ".cache", "LAMINAR_CACHE_TTL": "0",
		"GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Dana Developer", "GIT_AUTHOR_EMAIL": "dana@example.com",
		"GIT_COMMITTER_NAME": "Dana Developer", "GIT_COMMITTER_EMAIL": "dana@example.com", "NO_COLOR": "1",
		"GIT_AUTHOR_DATE": "2026-11-02T10:00:00Z", "GIT_COMMITTER_DATE": "2026-11-02T10:00:00Z", "TZ": "UTC",
	} {
		env.Setenv(k, v)
	}
	// $OID matches a full object name of the scripts' repositories (see
	// TestScriptsSHA256 for SHA-256 ones).
	if env.Getenv("OID") == "" {
		env.Setenv("OID", "[0-9a-f]{40}")
	}
	return nil
}

var scriptEpoch = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

func cmdPush(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: push REPO TAG...")
	}
	srv := server(ts)
	tags := map[string]time.Time{}
	for i, tag := range args[1:] {
		minutes := i
		if name, at, ok := strings.Cut(tag, "@"); ok {
			n, err := strconv.Atoi(at)
			ts.Check(err)
			tag, minutes = name, n
		}
		tags[tag] = scriptEpoch.Add(time.Duration(minutes) * time.Minute)
	}
	if _, err := registrytest.PushTags(context.Background(), srv.Host()+"/"+args[0], tags); err != nil {
		ts.Fatalf("push: %v", err)
	}
}

func cmdPushed(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: pushed REPO TAG@N...")
	}
	for _, spec := range args[1:] {
		tag, at, ok := strings.Cut(spec, "@")
		n, err := strconv.Atoi(at)
		if !ok || err != nil {
			ts.Fatalf("pushed: %q is not TAG@N", spec)
		}
		if !server(ts).SetPushed(args[0], tag, scriptEpoch.Add(time.Duration(n)*time.Minute)) {
			ts.Fatalf("pushed: %s:%s was not pushed", args[0], tag)
		}
	}
}

func cmdSubst(ts *testscript.TestScript, neg bool, args []string) {
	host := server(ts).Host()
	vars := strings.Fields(ts.Getenv("DIGEST_VARS"))
	for _, f := range args {
		p := ts.MkAbs(f)
		b, err := os.ReadFile(p)
		ts.Check(err)
		text := strings.ReplaceAll(string(b), "$REGISTRY", host)
		if h := ts.Getenv("HOSTILE"); h != "" {
			text = strings.ReplaceAll(text, "$HOSTILE", h)
		}
		for _, v := range vars {
			text = strings.ReplaceAll(text, "$"+v, ts.Getenv(v))
		}
		ts.Check(os.WriteFile(p, []byte(text), 0o644))
	}
}

func cmdDigest(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: digest VAR REPO TAG")
	}
	c := registry.New(registry.Options{})
	d, err := c.Digest(context.Background(), server(ts).Host()+"/"+args[1], args[2])
	ts.Check(err)
	ts.Setenv(args[0], d)
	ts.Setenv("DIGEST_VARS", ts.Getenv("DIGEST_VARS")+" "+args[0])
}

func cmdRegistry(ts *testscript.TestScript, neg bool, args []string) {
	srv := server(ts)
	if len(args) == 0 {
		ts.Fatalf("usage: registry fail|auth|ok|down ...")
	}
	switch args[0] {
	case "fail":
		if len(args) < 2 {
			ts.Fatalf("usage: registry fail STATUS [KIND]")
		}
		status, err := strconv.Atoi(args[1])
		ts.Check(err)
		kind, repo := "", ""
		if len(args) > 2 && args[2] != "any" {
			kind = args[2]
		}
		if len(args) > 3 {
			repo = args[3]
		}
		srv.Update(func(o *registrytest.ServerOptions) {
			o.Fail = func(r *http.Request) int {
				k, name := registrytest.KindOf(r)
				if (kind == "" || strings.Contains(string(k), kind)) && (repo == "" || name == repo) {
					return status
				}
				return 0
			}
		})
	case "auth":
		if len(args) != 3 {
			ts.Fatalf("usage: registry auth USER PASS")
		}
		srv.Update(func(o *registrytest.ServerOptions) { o.Username, o.Password = args[1], args[2] })
	case "ok":
		srv.Update(func(o *registrytest.ServerOptions) { o.Fail = nil; o.Username, o.Password = "", "" })
	case "harbor":
		srv.Update(func(o *registrytest.ServerOptions) { o.Harbor = true })
	case "dockerhub":
		srv.Update(func(o *registrytest.ServerOptions) { o.DockerHub = true })
	case "ghcr":
		srv.Update(func(o *registrytest.ServerOptions) { o.GHCR = true })
	case "gar":
		srv.Update(func(o *registrytest.ServerOptions) { o.GAR = true })
	case "gitlab":
		srv.Update(func(o *registrytest.ServerOptions) { o.GitLab, o.GitLabProjects = true, args[1:] })
	case "acr":
		if len(args) != 3 {
			ts.Fatalf("usage: registry acr USER PASS")
		}
		srv.Update(func(o *registrytest.ServerOptions) { o.ACR, o.Username, o.Password = true, args[1], args[2] })
	case "down":
		srv.Close()
	default:
		ts.Fatalf("registry: unknown %q", args[0])
	}
}

func cmdCRLF(ts *testscript.TestScript, neg bool, args []string) {
	for _, f := range args {
		p := ts.MkAbs(f)
		b, err := os.ReadFile(p)
		ts.Check(err)
		s := strings.ReplaceAll(string(b), "\r\n", "\n")
		ts.Check(os.WriteFile(p, []byte(strings.ReplaceAll(s, "\n", "\r\n")), 0o644))
	}
}

// cmdWaitFor waits until a file exists: a background command's sign that
// it got so far. The deadline only ends a broken script.
func cmdWaitFor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfor PATH")
	}
	p := ts.MkAbs(args[0])
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(p); err == nil {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfor: %s did not appear", args[0])
		}
	}
}
