package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/console"
	"github.com/quarrylinux/quarry/core/history"
	"github.com/quarrylinux/quarry/core/sign"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "the web console: runs, jobs and their logs, composes, SIGs, verification (read-only)",
		Description: `Serves the console on --listen (127.0.0.1:8080 by default: this machine only):
the runs (the current one live), a run's jobs by package and arch, each job's
log (streaming while it runs), its inputs and provenance, the composes of
--out and what each holds, the SIGs, and whether the current publication
verifies against the core's public key. Every page has a JSON twin under
/api/v1/ (e.g. /api/v1/runs). It reads the state and the published tree and
writes nothing; quarry build records what it shows.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8080", Usage: "the `ADDR` to listen on"},
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
			ln, err := net.Listen("tcp", c.String("listen"))
			if err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
			// The address, on stdout, for scripts and tests (--listen :0).
			fmt.Printf("serving the console on http://%s/\n", ln.Addr())
			go func() {
				<-c.Context.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				srv.Shutdown(ctx)
			}()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
}
