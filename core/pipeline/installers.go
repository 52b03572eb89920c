package pipeline

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/publish"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/plugins/intake"
	"github.com/quarrylinux/quarry/plugins/policy"
	"github.com/quarrylinux/quarry/sdk"
)

// installers publishes each SIG's installers into images/<sig>/:
// kickstarts as they are, and the artifacts of those that ask to be
// built, made by the plugin from the composed draft, which it may only
// read. Every package an installer names must exist in the repositories
// it names, which is checked before anything is built. A SIG whose
// installers fail is in failed.
func (p *Pipeline) installers(ctx context.Context, root string, b *Built, arts []*compose.Published, failed map[string]error) []publish.Image {
	var images []publish.Image
	for _, s := range b.SIGs {
		if len(s.Installers) == 0 || failed[s.Name] != nil {
			continue
		}
		imgs, err := p.sigInstallers(ctx, root, s, arts)
		if err != nil {
			failed[s.Name] = err
			os.RemoveAll(filepath.Join(root, "images", s.Name))
			os.RemoveAll(filepath.Join(root, "sig", s.Name))
			p.emit(Event{Kind: EventSIG, Phase: PhaseInstaller, SIG: s.Name, Status: "failed", Detail: err.Error()})
			continue
		}
		images = append(images, imgs...)
	}
	return images
}

// checkInstallers checks that what a SIG's installers name exists: each
// repository (core ones by name, the SIG's by id), group and package.
func (p *Pipeline) checkInstallers(s BuiltSIG, arts []*compose.Published) error {
	holds := map[string]map[string]bool{}
	for _, a := range arts {
		if a.Arch == "src" || (a.SIG != "" && a.SIG != s.Name) {
			continue
		}
		if holds[a.Repo] == nil {
			holds[a.Repo] = map[string]bool{}
		}
		holds[a.Repo][a.Name] = true
	}
	groups := map[string]bool{}
	for _, r := range p.Config.Repositories {
		for _, g := range r.Groups {
			groups[g.ID] = true
		}
	}
	for _, in := range s.Installers {
		for _, r := range in.Repos {
			if holds[r] == nil {
				return fmt.Errorf("sig %s: installer %s: repository %q is neither a core repository nor one of the SIG's", s.Name, in.Name, r)
			}
		}
		for _, pk := range in.Packages {
			if g, ok := strings.CutPrefix(pk, "@"); ok {
				if !groups[g] {
					return fmt.Errorf("sig %s: installer %s: group %s is not in the core's comps", s.Name, in.Name, pk)
				}
				continue
			}
			found := false
			for _, r := range in.Repos {
				found = found || holds[r][pk]
			}
			if !found {
				return fmt.Errorf("sig %s: installer %s: package %s is in none of its repositories (%s); nothing was built", s.Name, in.Name, pk, strings.Join(in.Repos, ", "))
			}
		}
	}
	return nil
}

func (p *Pipeline) sigInstallers(ctx context.Context, root string, s BuiltSIG, arts []*compose.Published) ([]publish.Image, error) {
	if err := p.checkInstallers(s, arts); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, "images", s.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var images []publish.Image
	var toBuild []sdk.Installer
	// Every file of images/<sig>/ once: a second one of a name would
	// replace the first, whose digest the manifest already lists.
	written := map[string]string{}
	claim := func(name, installer string) error {
		if other, ok := written[name]; ok {
			return fmt.Errorf("sig %s: installer %s: images/%s/%s is installer %s's already", s.Name, installer, s.Name, name, other)
		}
		written[name] = installer
		return nil
	}
	for _, in := range s.Installers {
		if in.Build {
			toBuild = append(toBuild, in)
			continue
		}
		name := in.Name + ".ks"
		if in.Kind != sdk.Kickstart {
			name = in.Name
		}
		if err := claim(name, in.Name); err != nil {
			return nil, err
		}
		if err := store.WriteFile(filepath.Join(dir, name), in.Content, 0o644); err != nil {
			return nil, err
		}
		images = append(images, publish.Image{SIG: s.Name, Installer: in.Name, Kind: string(in.Kind), Path: path.Join("images", s.Name, name),
			SHA256: store.Digest(in.Content), Packages: in.Packages})
	}
	if len(toBuild) == 0 {
		return images, nil
	}
	if p.SIGs == nil {
		return nil, fmt.Errorf("sig %s: no plugin host to build its installers", s.Name)
	}
	// A launch of its own, for the SIGs that build installers only: the
	// plugin must read the composed repositories, which do not exist at
	// intake, and keeping the intake's untrusted process alive through
	// the whole build would be worse than starting it again.
	mk, err := p.SIGs.Installers(ctx, s.Name, root)
	if err != nil {
		return nil, err
	}
	defer mk.Close()
	for _, in := range toBuild {
		img, err := p.buildInstaller(ctx, mk, root, dir, s.Name, in, claim)
		if err != nil {
			return nil, err
		}
		images = append(images, img)
	}
	return images, nil
}

// buildInstaller has the plugin write one artifact, aside, then names it
// as the gate allows.
func (p *Pipeline) buildInstaller(ctx context.Context, mk intake.InstallerMaker, root, dir, sig string, in sdk.Installer, claim func(name, installer string) error) (publish.Image, error) {
	tmp, err := os.CreateTemp(dir, ".build-")
	if err != nil {
		return publish.Image{}, err
	}
	art, err := mk.BuildInstaller(ctx, sdk.BuildRequest{Name: in.Name, ReposDir: root, ScratchDir: "/build"}, tmp)
	tmp.Close()
	if err == nil {
		err = (&policy.Gate{SIG: sig}).Artifact(in.Name, art.Name)
	}
	if err == nil {
		err = claim(art.Name, in.Name)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return publish.Image{}, err
	}
	dst := filepath.Join(dir, art.Name)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return publish.Image{}, err
	}
	data, err := os.ReadFile(dst)
	if err != nil {
		return publish.Image{}, err
	}
	sort.Strings(art.Packages)
	p.log().Info("image built", "sig", sig, "installer", in.Name, "file", art.Name, "packages", len(art.Packages))
	return publish.Image{SIG: sig, Installer: in.Name, Kind: string(in.Kind), Path: path.Join("images", sig, art.Name),
		SHA256: store.Digest(data), MediaType: art.MediaType, Packages: art.Packages}, nil
}
