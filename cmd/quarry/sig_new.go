package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/sdk/scaffold"
)

func sigNewCommand() *cli.Command {
	return &cli.Command{
		Name:      "new",
		Usage:     "start a SIG's own repository: plugin, package, tests with the conformance suite, Makefile, README",
		ArgsUsage: "NAME",
		Description: `Writes a new SIG repository into --dir (default ./quarry-sig-NAME, which must
be empty or not exist): main.go (sdk.Serve), sig/ (what the SIG offers: one
repository, one RPM package, its spec shipped inside the plugin), its tests
(the SDK's conformance suite in process), a Makefile (build, test, check),
an example config and a README. It depends on the SDK module alone.

Until the SDK module is published, --sdk names a local copy of it (the sdk/
folder of a Quarry checkout): go.mod replaces the module with it and
carries its requirements and checksums, so that make test passes at once,
offline. Without --sdk, run go mod tidy first.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Usage: "the new repository's `DIR` (default ./quarry-sig-NAME)"},
			&cli.StringFlag{Name: "module", Usage: "its Go module `PATH` (default quarry-sig-NAME)"},
			&cli.StringFlag{Name: "sdk", Usage: "a local copy of the SDK module, `DIR` (a Quarry checkout's sdk/)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("quarry: sig new NAME [--dir DIR] [--module PATH] [--sdk DIR]", 2)
			}
			name := c.Args().First()
			dir := c.String("dir")
			if dir == "" {
				dir = "quarry-sig-" + name
			}
			files, err := scaffold.Write(dir, scaffold.Options{Name: name, Module: c.String("module"), SDKDir: c.String("sdk")})
			if err != nil {
				return cli.Exit("quarry: sig new: "+err.Error(), 1)
			}
			for _, f := range files {
				fmt.Println(filepath.Join(dir, f))
			}
			next := "make test"
			if c.String("sdk") == "" {
				next = "go mod tidy && make test"
			}
			fmt.Fprintf(os.Stderr, "quarry: wrote the %s SIG into %s; next: cd %s && %s\n", name, dir, dir, next)
			return nil
		},
	}
}
