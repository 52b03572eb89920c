package main

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/plugins"
	"github.com/quarrylinux/quarry/plugins/policy"
	"github.com/quarrylinux/quarry/sdk"
)

// intakeSIGs runs every configured SIG's plugin and returns what passed
// the gate, as packages owned by their SIG. A SIG that fails is in the
// errors, by name; the others and the core go on.
func (e *env) intakeSIGs(c *cli.Context, l *plan.Loader, core []*plan.Package) ([]*plugins.SIG, map[string]error) {
	errs := map[string]error{}
	if len(e.cfg.SIGs) == 0 {
		return nil, errs
	}
	h, err := e.pluginHost()
	if err != nil {
		for _, g := range e.cfg.SIGs {
			errs[g.Name] = err
		}
		return nil, errs
	}
	srcs, err := l.Sources()
	if err != nil {
		for _, g := range e.cfg.SIGs {
			errs[g.Name] = err
		}
		return nil, errs
	}
	view := newCoreView(e, core)
	in := &plugins.Intake{Host: h, Store: e.store, Sources: srcs, Core: view, Gate: policy.Core{Names: view.names}, Limits: policy.DefaultLimits,
		Distro: e.sdkDistribution(), GitSources: map[string][]string{}}
	for _, g := range e.cfg.SIGs {
		in.GitSources[g.Name] = g.GitSources
	}
	taken := map[string]string{} // package → SIG
	var out []*plugins.SIG
	for _, g := range e.cfg.SIGs {
		raw, err := g.ConfigJSON()
		if err == nil {
			var s *plugins.SIG
			if s, err = in.Run(c.Context, g.Name, raw); err == nil {
				for _, p := range s.Packages {
					if other, dup := taken[p.Name]; dup {
						err = fmt.Errorf("sig %s: package %s: %s: sig %s ships it too", g.Name, p.Name, policy.RuleDuplicate, other)
						break
					}
				}
				var rel *plan.Package
				if err == nil {
					rel, err = e.releasePackage(c, srcs, s)
				}
				if err == nil {
					for _, p := range s.Packages {
						taken[p.Name] = g.Name
					}
					s.Release = rel
					out = append(out, s)
					e.log.Info("sig ready", "sig", g.Name, "version", s.Info.Version, "packages", len(s.Packages), "repos", len(s.Repos))
					continue
				}
			}
		}
		if plugins.IsConfig(err) {
			err = fmt.Errorf("%s:%d: %w", e.cfg.File, g.Line, err)
		}
		errs[g.Name] = err
	}
	return out, errs
}

// coreView answers plugins' questions about the core, and gives the gate
// the core's names.
type coreView struct {
	pkgs  []sdk.CorePackage
	repos []sdk.CoreRepo
	names map[string]bool
}

func newCoreView(e *env, core []*plan.Package) *coreView {
	v := &coreView{names: map[string]bool{}}
	for _, p := range core {
		v.names[p.Name] = true
		seen := map[string]bool{}
		for _, arch := range slices.Sorted(maps.Keys(p.Source.Binaries)) {
			for _, b := range p.Source.Binaries[arch] {
				v.names[b.Name] = true
				if !seen[b.Name+"."+b.Arch] {
					seen[b.Name+"."+b.Arch] = true
					v.pkgs = append(v.pkgs, sdk.CorePackage{Name: b.Name, Source: p.Name, EVR: b.EVR, Arch: b.Arch, Repo: e.cfg.RepositoryOf(p.Name)})
				}
			}
		}
	}
	for _, r := range e.cfg.Repositories {
		v.repos = append(v.repos, sdk.CoreRepo{Name: r.Name, Optional: r.Optional, Arches: e.cfg.ArchNames()})
	}
	return v
}

func (v *coreView) Packages(_ context.Context, names ...string) ([]sdk.CorePackage, error) {
	if len(names) == 0 {
		return v.pkgs, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []sdk.CorePackage
	for _, p := range v.pkgs {
		if want[p.Name] {
			out = append(out, p)
		}
	}
	return out, nil
}

func (v *coreView) Repos(context.Context) ([]sdk.CoreRepo, error) { return v.repos, nil }

// sigWork is where SIG plugins run.
func (e *env) sigWork() string { return filepath.Join(e.state, "plugins") }

// sigOf maps each SIG package to its SIG.
func (pl *planned) sigOf() map[string]string {
	out := map[string]string{}
	for _, s := range pl.SIGs {
		for _, p := range s.Packages {
			out[p.Name] = s.Name
		}
		out[s.Release.Name] = s.Name
	}
	return out
}

// failSIG takes a SIG out of this run's publication; the first error is
// the one reported.
func (pl *planned) failSIG(name string, err error) {
	if pl.SIGErrors == nil {
		pl.SIGErrors = map[string]error{}
	}
	if pl.SIGErrors[name] == nil {
		pl.SIGErrors[name] = err
	}
	out := pl.SIGs[:0]
	for _, s := range pl.SIGs {
		if s.Name != name {
			out = append(out, s)
		}
	}
	pl.SIGs = out
}

// releaseSpec is the spec of <distro>-release-<sig>: the SIG's .repo file
// and public key, which is how a machine opts in. Its changelog date is
// fixed so that it builds reproducibly; its release follows the plugin's
// version.
const releaseSpec = `Name:           %[1]s
Version:        %[2]s
Release:        %[3]s%%{?dist}
Summary:        %[4]s SIG %[5]s repositories
License:        MIT
BuildArch:      noarch
Source0:        %[6]s
Source1:        %[7]s

%%description
The dnf configuration and signing key of the %[5]s SIG's repositories:
installing this package turns them on.

%%prep

%%build

%%install
install -D -m 0644 %%{SOURCE0} %%{buildroot}/etc/yum.repos.d/%[6]s
install -D -m 0644 %%{SOURCE1} %%{buildroot}/etc/pki/rpm-gpg/%[7]s

%%files
%%config(noreplace) /etc/yum.repos.d/%[6]s
/etc/pki/rpm-gpg/%[7]s

%%changelog
* Mon Jan 01 2024 %[8]s - %[2]s-%[3]s
- The %[5]s SIG's repositories
`

// releasePackage makes the SIG's release package, built and signed by the
// core (never by the SIG) and published in sig/release/.
func (e *env) releasePackage(c *cli.Context, srcs *plan.Sources, s *plugins.SIG) (*plan.Package, error) {
	key, err := e.sigKey(s.Name)
	if err != nil {
		return nil, err
	}
	pub, err := key.PublicArmored()
	if err != nil {
		return nil, err
	}
	d := e.cfg.Distribution
	var repos []compose.SIGRepo
	for _, r := range s.Repos {
		repos = append(repos, compose.SIGRepo{ID: r.ID, Name: r.Name})
	}
	name := d.Name + "-release-" + s.Name
	repoFile := e.sigRepoFile(s.Name)
	release := strings.NewReplacer("-", "_", "+", "_").Replace(s.Info.Version)
	spec := fmt.Sprintf(releaseSpec, name, d.Version, release, d.PrettyName, s.Name, repoFile, e.sigKeyName(s.Name), d.Packager)
	tree := store.Tree{
		"SPECS/" + name + ".spec":         {Data: []byte(spec)},
		"SOURCES/" + repoFile:             {Data: compose.SIGRepoFile(d.Name, d.PrettyName, s.Name, e.publishURL(c), e.sigKeyName(s.Name), repos)},
		"SOURCES/" + e.sigKeyName(s.Name): {Data: pub},
	}
	digest, err := e.store.PutTree(tree)
	if err != nil {
		return nil, err
	}
	src, err := srcs.Get(c.Context, name, digest, nil)
	if err != nil {
		return nil, fmt.Errorf("sig %s: its release package: %w", s.Name, err)
	}
	return &plan.Package{Name: name, NVR: src.NVR(), Tree: digest, Source: src, Owner: releaseOwner}, nil
}

// releaseOwner owns the SIG release packages: the core builds them, apart
// from its own repositories.
const releaseOwner = "release"
