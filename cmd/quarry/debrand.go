package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/source"
)

func debrandCommand() *cli.Command {
	return &cli.Command{
		Name:      "debrand",
		Usage:     "show what a package's debranding directives change",
		ArgsUsage: "PKG",
		Description: `With --diff, prints the unified diff that the directives of PKG's patch
repository (main branch, then the target branch, as they are now) make to the
imported upstream tree. It writes nothing: use it while writing directives.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "diff", Usage: "print the unified diff (the only mode for now)", Value: true},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("debrand needs one package name", 2)
			}
			e, err := setup(c)
			if err != nil {
				return err
			}
			lk, err := e.loadLock()
			if err != nil {
				return err
			}
			im := &source.Importer{Config: e.cfg, Store: e.store, StateDir: e.state, Log: e.log, Limits: e.buildLimits()}
			diff, err := im.Diff(c.Context, lk, c.Args().First())
			if err != nil {
				return err
			}
			fmt.Print(diff)
			return nil
		},
	}
}
