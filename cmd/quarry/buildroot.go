package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
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

func (e *env) digests() *buildroot.Digests {
	return &buildroot.Digests{Path: filepath.Join(e.state, "buildroot-digests.json")}
}

// buildroots checks every arch's image against lk and returns them by
// arch, each as the config names it now with its digest, the pinned one
// (nil in the cross mode). With pinNew, an arch not pinned yet is pinned
// in lk (quarry import's first run); a changed image is an error either
// way, and lk is then left as it was.
func (e *env) buildroots(lk *lock.Lock, pinNew bool) (map[string]*lock.Buildroot, error) {
	if e.cfg.Cross() {
		return nil, nil
	}
	images := map[string]*lock.Buildroot{}
	fresh := map[string]*lock.Buildroot{}
	var errs []error
	for _, a := range e.cfg.ArchNames() {
		img := e.cfg.ImageOf(a)
		d, err := e.digests().Of(img, a)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && e.cfg.Build.Buildroot.Image == "" && e.cfg.Build.Buildroot.Images[a] == "" {
				err = fmt.Errorf("%w (make buildroots makes the stand-in images; or set build.buildroot in quarry.yaml)", err)
			}
			errs = append(errs, fmt.Errorf("buildroot %s: %w", a, err))
			continue
		}
		err = buildroot.Check(a, img, d, lk.Buildroots[a])
		var unpinned *buildroot.UnpinnedError
		if errors.As(err, &unpinned) && pinNew {
			fresh[a] = &lock.Buildroot{Image: img, Digest: d}
			err = nil
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		images[a] = &lock.Buildroot{Image: img, Digest: d}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for a, p := range fresh {
		if lk.Buildroots == nil {
			lk.Buildroots = map[string]*lock.Buildroot{}
		}
		lk.Buildroots[a] = p
		e.log.Info("pinned buildroot", "arch", a, "image", p.Image, "digest", p.Digest)
	}
	return images, nil
}

// unpackRoots unpacks the checked images (once per machine: the cache is
// shared and content-addressed) and returns digest → folder.
func (e *env) unpackRoots(images map[string]*lock.Buildroot) (map[string]string, error) {
	roots := map[string]string{}
	for _, a := range slices.Sorted(maps.Keys(images)) {
		img := images[a]
		if roots[img.Digest] != "" {
			continue
		}
		e.log.Info("unpacking buildroot", "arch", a, "digest", img.Digest, "cache", e.cfg.RootCache())
		u, err := buildroot.UnpackImage(img.Image, a, img.Digest, e.cfg.RootCache())
		if err != nil {
			return nil, err
		}
		if u.Devices > 0 {
			e.log.Debug("buildroot device nodes left out", "arch", a, "count", u.Devices)
		}
		roots[img.Digest] = u.Dir
	}
	return roots, nil
}
