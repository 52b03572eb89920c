package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/console"
	"github.com/quarrylinux/quarry/core/history"
	"github.com/quarrylinux/quarry/core/sign"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "the web console: runs, jobs and their logs, composes, SIGs, verification (read-only unless given a token)",
		Description: `Serves the console on --listen (127.0.0.1:8080 by default: this machine only):
the runs (the current one live), a run's jobs by package and arch, each job's
log (streaming while it runs), its inputs and provenance, the composes of
--out and what each holds, the SIGs, and whether the current publication
verifies against the core's public key. Every page has a JSON twin under
/api/v1/ (e.g. /api/v1/runs). It reads the state and the published tree
(quarry build records what it shows); it writes only its actions' output,
when it has a token.

With --token-file the console also acts, for requests that carry the token
(Authorization: Bearer TOKEN; its pages ask for it): POST
/api/v1/actions/build (body {"packages": [...]}, none: everything) runs
quarry build, and POST /api/v1/actions/rollback runs quarry publish
--rollback, each as a process of its own, recorded in the history as
"USER via console". The file holds the token alone, at least 32
characters, readable by its owner only:

    head -c 32 /dev/urandom | base64 > console.token && chmod 600 console.token`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", Usage: "the `ADDR` to listen on"},
			&cli.StringFlag{Name: "token-file", Usage: "turn the console's actions on, for requests carrying the token in `FILE`"},
			&cli.StringFlag{Name: "key", Usage: "the core's public key `FILE` the publication is verified against (default: <state>/keys/RPM-GPG-KEY-<distro>)"},
			outFlag(),
		},
		Action: func(c *cli.Context) error {
			e, err := setup(c)
			if err != nil {
				return err
			}
			s := &console.Server{Distro: e.cfg.Distribution.PrettyName, Layout: e.lay, Store: e.store, Arches: e.cfg.ArchNames(), Log: e.log.Named("console")}
			for _, g := range e.cfg.SIGs {
				s.SIGs = append(s.SIGs, g.Name)
			}
			if db, err := e.readHistory(); err == nil {
				s.History = db
				defer db.Close()
			} else if !errors.Is(err, os.ErrNotExist) {
				return err
			} else {
				// No run yet: the console says so until the first build
				// makes the database; then it is opened.
				s.OpenHistory = func() (*history.DB, error) { return e.readHistory() }
			}
			// The public key only: the console never reaches a private key.
			keyFile := cmp.Or(c.String("key"), filepath.Join(e.lay.KeysDir(), e.lay.KeyName()))
			if pub, err := os.ReadFile(keyFile); err == nil {
				if s.Trust, err = sign.Keyring(pub); err != nil {
					return fmt.Errorf("serve: %s: %w", keyFile, err)
				}
			} else {
				e.log.Warn("no public key: the console cannot verify the publication", "key", keyFile, "error", err)
			}
			var acts *console.Commands
			if f := c.String("token-file"); f != "" {
				if s.Token, err = readToken(f); err != nil {
					return fmt.Errorf("serve: --token-file: %w", err)
				}
				if acts, err = consoleCommands(c, e); err != nil {
					return fmt.Errorf("serve: %w", err)
				}
				s.Actions = acts
			}
			ln, err := net.Listen("tcp", c.String("listen"))
			if err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			if s.Token != "" && !loopback(ln.Addr()) {
				e.log.Warn("the console acts and listens beyond this machine over plain HTTP: its token can be read on the way; put it behind TLS", "listen", ln.Addr().String())
			}
			// No WriteTimeout: live views stream for as long as a run.
			srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
				IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
			// The address, on stdout, for scripts and tests (--listen :0).
			fmt.Printf("serving the console on http://%s/\n", ln.Addr())
			go func() {
				<-c.Context.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				srv.Shutdown(ctx)
			}()
			err = srv.Serve(ln)
			if acts != nil {
				// What the console started ends as an interrupted build
				// does: what it finished is kept.
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				acts.Stop(ctx)
				cancel()
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
}

// viaEnv tells a command the console started that it did (the history
// records "USER via console").
const viaEnv = "QUARRY_VIA"

// consoleCommands are the console's actions as this binary's command
// lines, over the same config, state and published tree.
func consoleCommands(c *cli.Context, e *env) (*console.Commands, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cfg, err := filepath.Abs(c.String("config"))
	if err != nil {
		return nil, err
	}
	state, err := filepath.Abs(e.state)
	if err != nil {
		return nil, err
	}
	out, err := filepath.Abs(e.lay.Out)
	if err != nil {
		return nil, err
	}
	return &console.Commands{Exe: exe, Global: []string{"--config", cfg, "--state", state, "--log-level", c.String("log-level")},
		Out: out, Output: e.lay.ActionLogs(), BusyExit: exitBusy, Env: []string{viaEnv + "=console"}}, nil
}

// readToken reads the console's token: the file's only content, long
// enough not to be guessed, and readable by its owner only (as ssh
// wants of a private key).
func readToken(file string) (string, error) {
	// One open: the mode and owner checked are those of what is read.
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", file)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s is readable by others (mode %04o): chmod 600 %s", file, fi.Mode().Perm(), file)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return "", fmt.Errorf("%s is user %d's, not this user's (%d)", file, st.Uid, os.Getuid())
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 32 || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("%s: the token is one line of at least 32 characters (head -c 32 /dev/urandom | base64)", file)
	}
	return tok, nil
}

func loopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
