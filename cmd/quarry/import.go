package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/pipeline"
	"github.com/quarrylinux/quarry/core/source"
)

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "import, debrand and pin the base distribution's sources",
		ArgsUsage: "[PKG[@REF]]...",
		Description: `Imports every package of quarry.yaml (or only those named) from upstream
dist-git or SRPMs, fetches and checks their lookaside sources, applies the
debranding directives of their patch repositories, stores both trees in the
content-addressed store and pins everything in quarry.lock.

PKG@REF pins another branch, tag or commit (for SRPMs: a file name) until
--unpin. Nothing is written to quarry.lock unless every package imports;
a package whose upstream did not change is neither fetched nor rewritten.

With --push URL (or push.url in the config), each debranded tree is then
committed to its downstream git repository ({name} in URL is the package):
branch r<major>, tag imports/<branch>/<nvr>. A local path that does not
exist is created as a bare repository. A downstream branch or tag that
diverged from what Quarry pushed is refused unless --force.`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "packages imported at once (default: 2 per core)"},
			&cli.BoolFlag{Name: "unpin", Usage: "return the named packages to the configured branch"},
			&cli.StringFlag{Name: "push", Usage: "publish the debranded trees to downstream git `URL` (template with {name})"},
			&cli.BoolFlag{Name: "no-push", Usage: "do not push even when the config has push.url"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite a downstream branch or tag that diverged"},
		},
		Action: runImport,
	}
}

func runImport(c *cli.Context) error {
	e, err := setup(c)
	if err != nil {
		return err
	}
	lk, err := e.loadLock()
	if err != nil {
		return err
	}
	var reqs []source.Request
	for _, arg := range c.Args().Slice() {
		name, ref, _ := strings.Cut(arg, "@")
		reqs = append(reqs, source.Request{Name: name, Ref: ref, Unpin: c.Bool("unpin")})
	}
	if len(reqs) == 0 && c.Bool("unpin") {
		return cli.Exit("--unpin needs the packages to unpin", 2)
	}
	rep := e.reporter()
	// A changed buildroot image stops the import before anything is
	// fetched; an arch not pinned yet is pinned with the packages.
	im, err := e.pipeline(rep).Import(c.Context, lk, reqs, c.Int("jobs"))
	rep.finish()
	if err != nil {
		return err
	}
	wrote, err := im.Lock.Save(e.lockPath())
	if err != nil {
		return fmt.Errorf("write %s: %w", e.lockPath(), err)
	}
	if e.json {
		err = json.NewEncoder(os.Stdout).Encode(map[string]any{"time": time.Now().UTC(), "event": pipeline.EventResult, "phase": pipeline.PhaseImport,
			"packages": len(im.Results), "changed": im.Changed, "lock": e.lockPath(), "lock_written": wrote})
	} else {
		for _, r := range im.Results {
			status := "unchanged"
			if r.Changed {
				status = "imported"
			}
			fmt.Printf("%-24s %-10s %s  tree %s\n", r.Name, status, r.Entry.NVR, r.Entry.Tree[:12])
		}
		fmt.Printf("%d packages, %d changed; lock %s\n", len(im.Results), im.Changed, e.lockPath())
	}
	if err != nil || c.Bool("no-push") || (c.String("push") == "" && e.cfg.Push == nil) {
		return err
	}
	return pushImports(c, e, im.Results)
}
