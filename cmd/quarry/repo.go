package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

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
primary, filelists and other metadata, the entries createrepo_c writes (see
the README for where they differ, and why). Symbolic links are followed, to
files and folders. Files of the same NEVRA are all indexed, with a warning.
An RPM that cannot be read (not an RPM, corrupt, truncated, header text with
control characters) fails the index, naming every such file, and the
repodata already there is left as it was; --skip-bad indexes the others and
warns. With --update, packages whose file has not changed since the last
index (size, mtime and ctime to the nanosecond, inode) are not read again.`,
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "update", Usage: "reuse the metadata of unchanged packages from the last run"},
				&cli.BoolFlag{Name: "skip-bad", Usage: "index the other RPMs when some cannot be read, warning for each"},
				&cli.BoolFlag{Name: "skip-symlinks", Usage: "ignore symbolic links instead of following them"},
				&cli.StringFlag{Name: "compression", Value: compose.Gzip, Usage: "metadata compression: gz or zst"},
				&cli.StringFlag{Name: "cache-dir", Usage: "`DIR` for the per-package metadata cache (default: the user cache folder)"},
			},
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return cli.Exit("repo index needs one folder", 2)
				}
				dir := c.Args().First()
				opts := compose.DirOptions{
					Options:  compose.Options{Compression: c.String("compression")},
					CacheDir: c.String("cache-dir"), Update: c.Bool("update"),
					SkipBad: c.Bool("skip-bad"), SkipSymlinks: c.Bool("skip-symlinks"),
				}
				if opts.CacheDir == "" {
					base, err := os.UserCacheDir()
					if err != nil {
						base = os.TempDir()
					}
					opts.CacheDir = filepath.Join(base, "quarry", "repo-index")
				}
				log := newLogger(c)
				res, err := compose.IndexDir(dir, opts)
				if err != nil {
					return fmt.Errorf("repo index %s: %w", dir, err)
				}
				for _, b := range res.Skipped {
					log.Warn("skipped a package that cannot be indexed", "file", b.Href, "error", b.Err)
				}
				for _, nevra := range slices.Sorted(maps.Keys(res.Duplicates)) {
					log.Warn("several files are the same package; all are indexed", "nevra", nevra, "files", res.Duplicates[nevra])
				}
				if c.Bool("json") {
					skipped := make([]string, len(res.Skipped))
					for i, b := range res.Skipped {
						skipped[i] = b.Href
					}
					return json.NewEncoder(os.Stdout).Encode(map[string]any{"dir": dir, "packages": res.Packages, "read": res.Read,
						"skipped": skipped, "duplicates": res.Duplicates})
				}
				fmt.Printf("%s: %d packages (%d read", dir, res.Packages, res.Read)
				if len(res.Skipped) > 0 {
					fmt.Printf(", %d skipped", len(res.Skipped))
				}
				fmt.Println(")")
				return nil
			},
		}},
	}
}
