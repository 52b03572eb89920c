package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/buildroot"
	"github.com/quarrylinux/quarry/core/lock"
)

func buildrootCommand() *cli.Command {
	return &cli.Command{
		Name:  "buildroot",
		Usage: "list and pin the per-arch buildroot images jobs build in",
		Description: `Every build job runs inside its arch's buildroot: a root file system image
named by build.buildroot in quarry.yaml (default: the stand-ins that
scripts/buildroot.sh makes, /var/cache/quarry/images/<arch>.tar.zst) and
pinned in quarry.lock by the sha256 of its tar stream. quarry import pins an
image it finds unpinned; import and build refuse one whose digest changed
until it is pinned again with 'quarry buildroot pin'.`,
		Action: runBuildrootList,
		Subcommands: []*cli.Command{{
			Name:   "list",
			Usage:  "show each arch's image, its pin and whether it still matches",
			Action: runBuildrootList,
		}, {
			Name:      "pin",
			Usage:     "pin the arches' images as they are now (all arches without ARCH)",
			ArgsUsage: "[ARCH...]",
			Action:    runBuildrootPin,
		}},
	}
}

func runBuildrootList(c *cli.Context) error {
	e, err := setup(c)
	if err != nil {
		return err
	}
	if e.cfg.Cross() {
		fmt.Println("build.toolchain is cross: jobs build with the host's cross compilers, in no buildroot")
		return nil
	}
	lk, err := e.loadLock()
	if err != nil {
		return err
	}
	bad := 0
	enc := json.NewEncoder(os.Stdout)
	for _, a := range e.cfg.ArchNames() {
		img := e.cfg.ImageOf(a)
		pinned := ""
		if p := lk.Buildroots[a]; p != nil {
			pinned = p.Digest
		}
		status := "pinned"
		found, err := e.digests().Of(img, a)
		switch {
		case err != nil:
			status, found = "unreadable: "+err.Error(), ""
		case pinned == "":
			status = "not pinned"
		case pinned != found:
			status = "changed since pinned"
		}
		if status != "pinned" {
			bad++
		}
		if e.json {
			enc.Encode(map[string]any{"event": "buildroot", "arch": a, "image": img, "pinned": pinned, "digest": found, "status": status})
			continue
		}
		fmt.Printf("%-8s %s\n         pinned %s\n         status %s\n", a, img, cmp.Or(pinned, "-"), status)
	}
	if bad > 0 {
		return cli.Exit(fmt.Sprintf("quarry: %d buildroot images are not as pinned", bad), 1)
	}
	return nil
}

func runBuildrootPin(c *cli.Context) error {
	e, err := setup(c)
	if err != nil {
		return err
	}
	if e.cfg.Cross() {
		return cli.Exit("quarry: build.toolchain is cross: there is no buildroot to pin", 2)
	}
	arches := c.Args().Slice()
	if len(arches) == 0 {
		arches = e.cfg.ArchNames()
	}
	for _, a := range arches {
		if !slices.Contains(e.cfg.ArchNames(), a) {
			return cli.Exit(fmt.Sprintf("quarry: %s is not one of the distribution's arches (%v)", a, e.cfg.ArchNames()), 2)
		}
	}
	lk, err := lock.Load(e.lockPath())
	if err != nil {
		return err
	}
	if lk.Buildroots == nil {
		lk.Buildroots = map[string]*lock.Buildroot{}
	}
	for _, a := range arches {
		img := e.cfg.ImageOf(a)
		d, err := e.digests().Of(img, a)
		if err != nil {
			return err
		}
		old := lk.Buildroots[a]
		lk.Buildroots[a] = &lock.Buildroot{Image: img, Digest: d}
		switch {
		case old == nil:
			fmt.Printf("%-8s pinned %s (%s)\n", a, d, img)
		case old.Digest != d:
			fmt.Printf("%-8s pinned %s (was %s)\n", a, d, old.Digest)
		default:
			fmt.Printf("%-8s unchanged %s\n", a, d)
		}
	}
	if _, err := lk.Save(e.lockPath()); err != nil {
		return fmt.Errorf("write %s: %w", e.lockPath(), err)
	}
	return nil
}

func (e *env) digests() *buildroot.Digests { return e.pipeline(nil).Digests() }
