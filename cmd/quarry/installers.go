package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/publish"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/plugins"
	"github.com/quarrylinux/quarry/plugins/policy"
	"github.com/quarrylinux/quarry/sdk"
)

// buildInstallers publishes each SIG's installers into images/<sig>/:
// kickstarts as they are, and the artifacts of those that ask to be built,
// made by the plugin from the composed draft, which it may only read.
// Every package an installer names must exist in the repositories it
// names, which is checked before anything is built. A SIG whose installers
// fail is in failed.
func (e *env) buildInstallers(c *cli.Context, root string, pl *planned, arts []*compose.Published, failed map[string]error) []publish.Image {
	var images []publish.Image
	for _, s := range pl.SIGs {
		if len(s.Installers) == 0 || failed[s.Name] != nil {
			continue
		}
		imgs, err := e.sigInstallers(c, root, s, arts)
		if err != nil {
			failed[s.Name] = err
			os.RemoveAll(filepath.Join(root, "images", s.Name))
			os.RemoveAll(filepath.Join(root, "sig", s.Name))
			continue
		}
		images = append(images, imgs...)
	}
	return images
}

func (e *env) sigInstallers(c *cli.Context, root string, s *plugins.SIG, arts []*compose.Published) ([]publish.Image, error) {
	// What each repository holds, by the names installers use: core
	// repositories by name, the SIG's by id.
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
	for _, r := range e.cfg.Repositories {
		for _, g := range r.Groups {
			groups[g.ID] = true
		}
	}
	for _, in := range s.Installers {
		for _, r := range in.Repos {
			if holds[r] == nil {
				return nil, fmt.Errorf("sig %s: installer %s: repository %q is neither a core repository nor one of the SIG's", s.Name, in.Name, r)
			}
		}
		for _, p := range in.Packages {
			if g, ok := strings.CutPrefix(p, "@"); ok {
				if !groups[g] {
					return nil, fmt.Errorf("sig %s: installer %s: group %s is not in the core's comps", s.Name, in.Name, p)
				}
				continue
			}
			found := false
			for _, r := range in.Repos {
				found = found || holds[r][p]
			}
			if !found {
				return nil, fmt.Errorf("sig %s: installer %s: package %s is in none of its repositories (%s); nothing was built", s.Name, in.Name, p, strings.Join(in.Repos, ", "))
			}
		}
	}
	dir := filepath.Join(root, "images", s.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var images []publish.Image
	var build []sdk.Installer
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
			build = append(build, in)
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
	if len(build) == 0 {
		return images, nil
	}
	h, err := e.pluginHost()
	if err != nil {
		return nil, err
	}
	p, err := h.LaunchReading(c.Context, s.Name, root)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	if err := e.configureSIG(c, p); err != nil {
		return nil, err
	}
	for _, in := range build {
		tmp, err := os.CreateTemp(dir, ".build-")
		if err != nil {
			return nil, err
		}
		art, err := p.BuildInstaller(c.Context, sdk.BuildRequest{Name: in.Name, ReposDir: root, ScratchDir: "/build"}, tmp)
		tmp.Close()
		if err != nil {
			os.Remove(tmp.Name())
			return nil, err
		}
		if err := (&policy.Gate{SIG: s.Name}).Artifact(in.Name, art.Name); err != nil {
			os.Remove(tmp.Name())
			return nil, err
		}
		if err := claim(art.Name, in.Name); err != nil {
			os.Remove(tmp.Name())
			return nil, err
		}
		dst := filepath.Join(dir, art.Name)
		if err := os.Rename(tmp.Name(), dst); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(dst)
		if err != nil {
			return nil, err
		}
		sort.Strings(art.Packages)
		images = append(images, publish.Image{SIG: s.Name, Installer: in.Name, Kind: string(in.Kind), Path: path.Join("images", s.Name, art.Name),
			SHA256: store.Digest(data), MediaType: art.MediaType, Packages: art.Packages})
		e.log.Info("image built", "sig", s.Name, "installer", in.Name, "file", art.Name, "packages", len(art.Packages))
	}
	return images, nil
}
