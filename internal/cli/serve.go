package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/git-laminar/git-laminar/internal/fleet"
	laminarserver "github.com/git-laminar/git-laminar/internal/server"
	"github.com/urfave/cli/v2"
)

// ShardEnv is read when --shard is not given: a Kubernetes StatefulSet
// sets it from the pod's index.
const ShardEnv = "LAMINAR_SHARD"

func serveCommand(s Streams) *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "keep a fleet of repositories promoted: scheduler, HTTP API, webhooks, metrics",
		UsageText: "git laminar serve --fleet FILE [--listen ADDR] [--state DIR] [--shard I/N] [--log-format text|json]",
		Description: "Runs each repository of the fleet file on its interval, in a clone of its own\n" +
			"under the state directory, as git laminar run does (the same lock), never two at\n" +
			"once for one repository. HTTP on --listen: /healthz, /readyz, /metrics, / (status\n" +
			"page), and with the bearer token of token_env: GET /v1/status, POST /v1/sync,\n" +
			"POST /v1/promote; registry webhooks at /webhooks/<source>. Without a token it\n" +
			"listens on loopback only. SIGTERM stops taking work, lets the job in progress\n" +
			"finish and exits 0. See SERVE in git help laminar.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "fleet", Usage: "read the repositories from `FILE` (TOML)"},
			&cli.StringFlag{Name: "listen", Value: laminarserver.DefaultListen, Usage: "serve HTTP on `ADDR`"},
			&cli.StringFlag{Name: "state", DefaultText: "$XDG_DATA_HOME/git-laminar/serve", Usage: "keep the clones in `DIR`"},
			&cli.StringFlag{Name: "shard", DefaultText: "$" + ShardEnv + ", else 0/1", Usage: "take the repositories whose name hashes to shard `I/N`"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log as `FORMAT`: text or json"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return exit(ExitError, fmt.Errorf("serve takes no arguments (got %q)", c.Args().First()))
			}
			return runServe(c, s)
		},
	}
}

func runServe(c *cli.Context, s Streams) error {
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	format := c.String("log-format")
	if format != "text" && format != "json" {
		return exit(ExitError, fmt.Errorf("--log-format: %q is not text or json", format))
	}
	if c.String("fleet") == "" {
		return exit(ExitError, fmt.Errorf("--fleet FILE is needed: the repositories to keep promoted"))
	}
	f, err := fleet.Load(c.String("fleet"))
	if err != nil {
		return exit(ExitError, err)
	}
	shardText := c.String("shard")
	if shardText == "" {
		shardText = getenv(ShardEnv)
	}
	var shard fleet.Shard
	if shardText != "" {
		if shard, err = fleet.ParseShard(shardText); err != nil {
			return exit(ExitError, err)
		}
	}
	state := c.String("state")
	if state == "" {
		if state, err = defaultStateDir(getenv); err != nil {
			return exit(ExitError, err)
		}
	}
	if state, err = filepath.Abs(state); err != nil {
		return exit(ExitError, err)
	}
	if err := os.MkdirAll(state, 0o700); err != nil {
		return exit(ExitError, fmt.Errorf("state directory: %w", err))
	}
	var token string
	if f.TokenEnv != "" {
		token = strings.TrimSpace(getenv(f.TokenEnv))
		if token == "" {
			return exit(ExitError, fmt.Errorf("%s: token_env names %s, which is empty or unset", f.Path, f.TokenEnv))
		}
	}
	secrets := map[string]string{}
	for src, w := range f.Webhooks {
		v := getenv(w.SecretEnv)
		if v == "" {
			return exit(ExitError, fmt.Errorf("%s: webhooks.%s.secret_env names %s, which is empty or unset", f.Path, src, w.SecretEnv))
		}
		secrets[src] = v
	}
	listen := c.String("listen")
	if token == "" {
		if err := laminarserver.LoopbackOnly(listen); err != nil {
			return exit(ExitError, err)
		}
	}
	bin, err := os.Executable()
	if err != nil {
		return exit(ExitError, fmt.Errorf("finding git-laminar's own binary: %w", err))
	}
	log := newLogger(s.Err, format)
	srv, err := laminarserver.New(laminarserver.Options{
		Fleet: f, Shard: shard, StateDir: state, Listen: listen, Token: token, Secrets: secrets,
		Engine: &laminarserver.AppEngine{Getenv: getenv, Log: log,
			StatusReader: &laminarserver.StatusCommand{Binary: bin, Argv0: filepath.Base(os.Args[0])}},
		Log: log,
	})
	if err != nil {
		return exit(ExitError, err)
	}
	if err := srv.Run(c.Context); err != nil {
		log.Error("failed", "error", err.Error())
		return exit(ExitError, nil)
	}
	return nil
}

// defaultStateDir is $XDG_DATA_HOME/git-laminar/serve, else
// ~/.local/share/git-laminar/serve.
func defaultStateDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "git-laminar", "serve"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("--state DIR is needed: no home directory (%w)", err)
	}
	return filepath.Join(home, ".local", "share", "git-laminar", "serve"), nil
}
