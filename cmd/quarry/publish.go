package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/pipeline"
)

func outFlag() cli.Flag {
	return &cli.StringFlag{Name: "out", Value: "out", Usage: "the published tree `DIR`: DIR/current → DIR/composes/<id>"}
}

func publishCommand() *cli.Command {
	return &cli.Command{
		Name:  "publish",
		Usage: "compose, sign and publish what was last built, or roll back",
		Description: `Takes the last build's recorded result (it builds and plans nothing: run
quarry build --no-publish first; a build of other config or lock is refused),
signs every RPM with the core key,
lays out repos/<repo>/<arch> (noarch packages in every arch, -debuginfo in
<repo>-debug, SRPMs in repos/source), writes and signs repodata, writes
manifest.json (every file of the compose with its sha256) and sigs.json,
each signed with the core key (manifest.json.asc, sigs.json.asc), and makes
the new compose current with one atomic rename. quarry verify checks it.
A build with nothing new since the current compose publishes nothing. The
last publish.keep composes stay on disk; --rollback makes the one before
current again.`,
		Flags: []cli.Flag{
			outFlag(),
			&cli.BoolFlag{Name: "rollback", Usage: "make the compose before the current one current again"},
		},
		Action: func(c *cli.Context) error {
			e, err := setup(c)
			if err != nil {
				return err
			}
			rep := e.reporter()
			p := e.pipeline(rep)
			if p.History, err = e.openHistory(); err != nil {
				return err
			}
			defer p.History.Close()
			// A rollback too: a publish under way would make its own
			// compose current after it.
			unlock, err := lockState(e.lay.BuildDir())
			if err != nil {
				return err
			}
			defer unlock()
			if !c.Bool("rollback") {
				dev, err := e.devActive()
				if err != nil {
					return err
				}
				if len(dev) > 0 {
					return cli.Exit("quarry: "+strings.Join(dev, "; ")+": a publication runs locked plugins only (its installers are built now); quarry plugin dev --clear", 1)
				}
			}
			if c.Bool("rollback") {
				from, to, err := p.Rollback(c.Context)
				if err != nil {
					return fmt.Errorf("rollback: %w", err)
				}
				if e.json {
					json.NewEncoder(os.Stdout).Encode(pipeline.Event{Time: time.Now().UTC(), Kind: pipeline.EventResult, Phase: pipeline.PhasePublish, Status: "rolled back", Compose: to, Detail: "was " + from})
					return nil
				}
				fmt.Printf("current: %s (was %s)\n", to, from)
				return nil
			}
			b, err := p.LastBuilt()
			if err != nil {
				return err
			}
			var be *pipeline.BuildError
			if err := b.Err(); errors.As(err, &be) {
				return cli.Exit(fmt.Sprintf("quarry: not everything is built (run quarry build): %v", be), 1)
			}
			res, err := p.PublishRun(c.Context, b)
			rep.finish()
			if res != nil {
				printPublished(res, e.json)
			}
			return sigsFailed(err)
		},
	}
}

// printPublished says what a publish made current, or that nothing was new.
func printPublished(res *pipeline.Published, asJSON bool) {
	if asJSON {
		kind := pipeline.EventPublished
		if res.Nothing {
			kind = pipeline.EventNothing
		}
		json.NewEncoder(os.Stdout).Encode(pipeline.Event{Time: time.Now().UTC(), Kind: pipeline.EventResult, Phase: pipeline.PhasePublish, Status: kind, Compose: res.Compose,
			Counts: map[string]int{"packages": res.Packages, "repos": res.Repos, "signed": res.Signed, "repos_rewritten": res.Rewritten, "sig_failures": len(res.SIGFailures)}})
		return
	}
	if res.Nothing {
		fmt.Printf("nothing new to publish: compose %s is current and was made from the same build → %s\n", res.Compose, res.Out+"/current")
		return
	}
	fmt.Printf("published compose %s: %d packages in %d repositories (%d newly signed, %d repodata rewritten) → %s\n",
		res.Compose, res.Packages, res.Repos, res.Signed, res.Rewritten, res.Out+"/current")
}
