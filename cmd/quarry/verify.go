package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/publish"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check a published compose offline: signatures, checksums, manifest",
		ArgsUsage: "DIR",
		Description: `Checks, against the public keys in DIR/keys, what a user can check without
a network: every RPM's digests and header signature, every repository's
repomd.xml signature and the checksums and sizes of its metadata files, and
that every file the manifest lists has the digest it says. Prints one line per
problem and exits non-zero if there is any. DIR is usually out/current.`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("verify needs the compose folder, e.g. out/current", 2)
			}
			problems := publish.Verify(c.Args().First())
			if c.Bool("json") {
				json.NewEncoder(os.Stdout).Encode(map[string]any{"dir": c.Args().First(), "problems": problems})
			} else {
				for _, p := range problems {
					fmt.Println(p)
				}
			}
			if len(problems) > 0 {
				return cli.Exit(fmt.Sprintf("quarry: %s: %d problems", c.Args().First(), len(problems)), 1)
			}
			if !c.Bool("json") {
				fmt.Printf("%s: everything verifies\n", c.Args().First())
			}
			return nil
		},
	}
}
