// Command quarry builds an Enterprise Linux rebuild: it imports the base
// distribution's sources, debrands them, rebuilds them and publishes
// repositories. Each subcommand lives in its own file and stays thin over
// the library packages under core/.
package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/layout"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if os.Getenv(viaEnv) != "" {
		// Started by the console, whose pipes carry its output: a console
		// that dies must not take the build with it (writes fail instead,
		// and the history still records everything).
		signal.Ignore(syscall.SIGPIPE)
	}
	app := newApp()
	err := app.RunContext(ctx, flagsFirst(app, os.Args))
	stop()
	// Every SIG plugin this run started ends with it, also after Ctrl-C.
	plugin.CleanupClients()
	if err != nil {
		// Printed here, once, with one prefix: urfave/cli is told not to
		// print or exit itself (ExitErrHandler), so the plugins above are
		// cleaned up first.
		if msg := err.Error(); msg != "" {
			if !strings.HasPrefix(msg, "quarry: ") {
				msg = "quarry: " + msg
			}
			fmt.Fprintln(os.Stderr, msg)
		}
		os.Exit(exitCode(err))
	}
}

// version is Quarry's release; builds from source say so. It names the
// builder in provenance.
var version = "0.1.0-dev"

func newApp() *cli.App {
	return &cli.App{
		Name:    "quarry",
		Version: version,
		Usage:   "build an Enterprise Linux rebuild distribution",
		Description: `Quarry imports the base distribution's sources (dist-git or SRPMs),
debrands them with srpmproc-compatible directives, rebuilds every package and
publishes signed repositories. Everything it needs is described in quarry.yaml.

Start with:  quarry import               (import and debrand every package)
             quarry debrand --diff PKG   (see what debranding changes)
             quarry plan                 (the build graph)
             quarry build                (rebuild everything, for every arch)`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Value: "quarry.yaml", Usage: "the distribution config `FILE`", EnvVars: []string{"QUARRY_CONFIG"}},
			&cli.StringFlag{Name: "state", Value: ".quarry", Usage: "`DIR` holding the source store, caches and quarry.lock", EnvVars: []string{"QUARRY_STATE"}},
			&cli.StringFlag{Name: "log-level", Value: "warn", Usage: "log `LEVEL` on stderr: trace, debug, info, warn, error"},
			&cli.BoolFlag{Name: "json", Usage: "write results and progress as JSON lines on stdout"},
		},
		Commands: []*cli.Command{
			importCommand(),
			debrandCommand(),
			planCommand(),
			buildCommand(),
			buildrootCommand(),
			publishCommand(),
			composesCommand(),
			runsCommand(),
			statusCommand(),
			logCommand(),
			serveCommand(),
			workerCommand(),
			keyCommand(),
			verifyCommand(),
			repoCommand(),
			pluginCommand(),
			sigCommand(),
			completionCommand(),
			manCommand(),
		},
		EnableBashCompletion: true,
		// quarry help CMD, and a mistyped command says what was meant.
		Suggest: true,
		// main prints the error and exits, after cleaning up.
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

// env is what every command needs, built from the global flags.
type env struct {
	cfg   *config.Config
	store *store.Store
	state string
	log   hclog.Logger
	json  bool
	lay   layout.Layout // Out is set by the commands with --out

	key *sign.Key // the signing key, once loaded
}

func (e *env) lockPath() string { return e.lay.LockFile() }

func (e *env) loadLock() (*lock.Lock, error) { return lock.Load(e.lockPath()) }

// buildLimits bound build jobs, SRPM builds and spec queries.
func (e *env) buildLimits() sandbox.Limits {
	l := e.cfg.Build.Limits
	return sandbox.Limits{Time: l.Time, Procs: l.Processes, Disk: int64(l.Disk), Log: int64(l.Log), Setting: "build.limits"}
}

// pluginLimits bound each plugin's processes and scratch folder.
func (e *env) pluginLimits() sandbox.Limits {
	l := e.cfg.Plugins.Limits
	return sandbox.Limits{Procs: l.Processes, Disk: int64(l.Disk), Setting: "plugins.limits"}
}

// newLogger is the log on stderr the global flags ask for (setup checks
// --log-level first).
func newLogger(c *cli.Context) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "quarry", Level: hclog.LevelFromString(c.String("log-level")), Output: os.Stderr, JSONFormat: c.Bool("json")})
}

func setup(c *cli.Context) (*env, error) {
	level := hclog.LevelFromString(c.String("log-level"))
	if level == hclog.NoLevel {
		return nil, cli.Exit(fmt.Sprintf("--log-level %q: use trace, debug, info, warn or error", c.String("log-level")), 2)
	}
	log := newLogger(c)
	cfg, err := config.Load(c.String("config"))
	if err != nil {
		return nil, err
	}
	state, err := filepath.Abs(c.String("state"))
	if err != nil {
		return nil, err
	}
	st, err := store.Open(filepath.Join(state, "store"))
	if err != nil {
		return nil, err
	}
	e := &env{cfg: cfg, store: st, state: state, log: log, json: c.Bool("json"), lay: layout.Layout{Distro: cfg.Distribution.Name, State: state}}
	// --out is a flag of the commands that publish or plan for it.
	if out, err := filepath.Abs(cmp.Or(c.String("out"), "out")); err == nil {
		e.lay.Out = out
	}
	return e, nil
}
