package pipeline

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/quarrylinux/quarry/core/buildroot"
	"github.com/quarrylinux/quarry/core/lock"
)

// Digests caches the buildroot images' digests by file identity.
func (p *Pipeline) Digests() *buildroot.Digests {
	return &buildroot.Digests{Path: p.Layout.BuildrootDigests()}
}

// Buildroots checks every arch's image against lk and returns them by
// arch, each as the config names it now with its digest, the pinned one
// (nil in the cross mode). With pinNew, an arch not pinned yet is pinned
// in lk (quarry import's first run); a changed image is an error either
// way, and lk is then left as it was.
func (p *Pipeline) Buildroots(lk *lock.Lock, pinNew bool) (map[string]*lock.Buildroot, error) {
	cfg := p.Config
	if cfg.Cross() {
		return nil, nil
	}
	images := map[string]*lock.Buildroot{}
	fresh := map[string]*lock.Buildroot{}
	var errs []error
	for _, a := range cfg.ArchNames() {
		img := cfg.ImageOf(a)
		d, err := p.Digests().Of(img, a)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && cfg.Build.Buildroot.Image == "" && cfg.Build.Buildroot.Images[a] == "" {
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
	for a, b := range fresh {
		if lk.Buildroots == nil {
			lk.Buildroots = map[string]*lock.Buildroot{}
		}
		lk.Buildroots[a] = b
		p.log().Info("pinned buildroot", "arch", a, "image", b.Image, "digest", b.Digest)
	}
	return images, nil
}

// UnpackRoots unpacks the checked images (once per machine: the cache is
// shared and content-addressed) and returns digest → folder.
func (p *Pipeline) UnpackRoots(images map[string]*lock.Buildroot) (map[string]string, error) {
	roots := map[string]string{}
	for _, a := range slices.Sorted(maps.Keys(images)) {
		img := images[a]
		if roots[img.Digest] != "" {
			continue
		}
		p.log().Info("unpacking buildroot", "arch", a, "digest", img.Digest, "cache", p.Config.RootCache())
		u, err := buildroot.UnpackImage(img.Image, a, img.Digest, p.Config.RootCache())
		if err != nil {
			return nil, err
		}
		if u.Devices > 0 {
			p.log().Debug("buildroot device nodes left out", "arch", a, "count", u.Devices)
		}
		roots[img.Digest] = u.Dir
	}
	return roots, nil
}
