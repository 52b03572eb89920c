package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/compose"
)

func repoCommand() *cli.Command {
	return &cli.Command{
		Name:  "repo",
		Usage: "work with a folder of RPMs as a dnf repository",
		Subcommands: []*cli.Command{{
			Name:      "index",
			Usage:     "write DIR/repodata for the RPMs under DIR (createrepo_c-style)",
			ArgsUsage: "DIR",
			Description: `Reads every RPM under DIR (checking its digests) and writes repomd.xml with
primary, filelists and other metadata, the same entries createrepo_c writes.
With --update, packages whose size and mtime have not changed since the last
index are not read again.`,
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "update", Usage: "reuse the metadata of unchanged packages from the last run"},
				&cli.StringFlag{Name: "compression", Value: compose.Gzip, Usage: "metadata compression: gz or zst"},
				&cli.StringFlag{Name: "cache-dir", Usage: "`DIR` for the per-package metadata cache (default: the user cache folder)"},
			},
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return cli.Exit("repo index needs one folder", 2)
				}
				cacheDir := c.String("cache-dir")
				if cacheDir == "" {
					base, err := os.UserCacheDir()
					if err != nil {
						base = os.TempDir()
					}
					cacheDir = filepath.Join(base, "quarry", "repo-index")
				}
				res, err := compose.IndexDir(c.Args().First(), cacheDir, c.Bool("update"), compose.Options{Compression: c.String("compression")})
				if err != nil {
					return fmt.Errorf("repo index %s: %w", c.Args().First(), err)
				}
				if c.Bool("json") {
					return json.NewEncoder(os.Stdout).Encode(map[string]any{"dir": c.Args().First(), "packages": res.Packages, "read": res.Read})
				}
				fmt.Printf("%s: %d packages (%d read)\n", c.Args().First(), res.Packages, res.Read)
				return nil
			},
		}},
	}
}
