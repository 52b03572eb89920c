package pipeline

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/layout"
	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/srpm"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/plugins/intake"
	"github.com/quarrylinux/quarry/plugins/policy"
	"github.com/quarrylinux/quarry/sdk"
)

// intake runs every configured SIG's plugin and returns what passed the
// gate, as packages owned by their SIG, each with its release package.
// A SIG that fails is in the errors, by name; the others and the core go
// on.
func (p *Pipeline) intake(ctx context.Context, l *srpm.Loader, core []*plan.Package) ([]*intake.SIG, map[string]error) {
	errs := map[string]error{}
	if len(p.Config.SIGs) == 0 {
		return nil, errs
	}
	failAll := func(err error) ([]*intake.SIG, map[string]error) {
		for _, g := range p.Config.SIGs {
			errs[g.Name] = fmt.Errorf("sig %s: %w", g.Name, err)
			p.emit(Event{Kind: EventSIG, Phase: PhasePlan, SIG: g.Name, Status: "failed", Detail: errs[g.Name].Error()})
		}
		return nil, errs
	}
	if p.SIGs == nil {
		return failAll(fmt.Errorf("no plugin host"))
	}
	srcs, err := l.Sources()
	if err != nil {
		return failAll(err)
	}
	view := NewCoreView(p, core)
	taken := map[string]string{} // package → SIG
	var out []*intake.SIG
	for _, g := range p.Config.SIGs {
		s, err := p.SIGs.Intake(ctx, g.Name, srcs, view, view.Names)
		if err == nil {
			for _, pk := range s.Packages {
				if other, dup := taken[pk.Name]; dup {
					err = fmt.Errorf("sig %s: package %s: %s: sig %s ships it too", g.Name, pk.Name, policy.RuleDuplicate, other)
					break
				}
			}
		}
		if err == nil {
			s.Release, err = p.releasePackage(ctx, srcs, s)
		}
		if err != nil {
			if intake.IsConfig(err) {
				err = fmt.Errorf("%s:%d: %w", p.Config.File, g.Line, err)
			}
			errs[g.Name] = err
			p.emit(Event{Kind: EventSIG, Phase: PhasePlan, SIG: g.Name, Status: "failed", Detail: err.Error()})
			continue
		}
		for _, pk := range s.Packages {
			taken[pk.Name] = g.Name
		}
		out = append(out, s)
		p.emit(Event{Kind: EventSIG, Phase: PhasePlan, SIG: g.Name, Status: "ready", Detail: fmt.Sprintf("version %s, %d packages, %d repositories", s.Info.Version, len(s.Packages), len(s.Repos))})
		p.log().Info("sig ready", "sig", g.Name, "version", s.Info.Version, "packages", len(s.Packages), "repos", len(s.Repos))
	}
	return out, errs
}

// CoreView answers plugins' questions about the core (sdk.Core), and
// gives the gate the core's names, which no SIG may ship.
type CoreView struct {
	pkgs  []sdk.CorePackage
	repos []sdk.CoreRepo
	Names map[string]bool
}

// NewCoreView describes the core's packages as imported.
func NewCoreView(p *Pipeline, core []*plan.Package) *CoreView {
	v := &CoreView{Names: map[string]bool{}}
	for _, pk := range core {
		v.Names[pk.Name] = true
		seen := map[string]bool{}
		for _, a := range slices.Sorted(maps.Keys(pk.Source.Binaries)) {
			for _, b := range pk.Source.Binaries[a] {
				v.Names[b.Name] = true
				if !seen[b.Name+"."+b.Arch] {
					seen[b.Name+"."+b.Arch] = true
					v.pkgs = append(v.pkgs, sdk.CorePackage{Name: b.Name, Source: pk.Name, EVR: b.EVR, Arch: b.Arch, Repo: p.Config.RepositoryOf(pk.Name)})
				}
			}
		}
	}
	for _, r := range p.Config.Repositories {
		v.repos = append(v.repos, sdk.CoreRepo{Name: r.Name, Optional: r.Optional, Arches: p.Config.ArchNames()})
	}
	return v
}

// Packages implements sdk.Core.
func (v *CoreView) Packages(_ context.Context, names ...string) ([]sdk.CorePackage, error) {
	if len(names) == 0 {
		return v.pkgs, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []sdk.CorePackage
	for _, pk := range v.pkgs {
		if want[pk.Name] {
			out = append(out, pk)
		}
	}
	return out, nil
}

// Repos implements sdk.Core.
func (v *CoreView) Repos(context.Context) ([]sdk.CoreRepo, error) { return v.repos, nil }

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
func (p *Pipeline) releasePackage(ctx context.Context, srcs *srpm.Sources, s *intake.SIG) (*plan.Package, error) {
	key, err := p.Keys.SIG(s.Name)
	if err != nil {
		return nil, err
	}
	pub, err := key.PublicArmored()
	if err != nil {
		return nil, err
	}
	d, lay := p.Config.Distribution, p.Layout
	var repos []compose.SIGRepo
	for _, r := range s.Repos {
		repos = append(repos, compose.SIGRepo{ID: r.ID, Name: r.Name})
	}
	name := lay.ReleasePackage(s.Name)
	repoFile, keyName := lay.SIGRepoFile(s.Name), lay.SIGKeyName(s.Name)
	release := strings.NewReplacer("-", "_", "+", "_").Replace(s.Info.Version)
	spec := fmt.Sprintf(releaseSpec, name, d.Version, release, d.PrettyName, s.Name, repoFile, keyName, d.Packager)
	tree := store.Tree{
		"SPECS/" + name + ".spec": {Data: []byte(spec)},
		"SOURCES/" + repoFile:     {Data: compose.SIGRepoFile(d.Name, d.PrettyName, s.Name, p.PublishURL(), keyName, repos)},
		"SOURCES/" + keyName:      {Data: pub},
	}
	digest, err := p.Store.PutTree(tree)
	if err != nil {
		return nil, err
	}
	src, err := srcs.Get(ctx, name, digest, nil)
	if err != nil {
		return nil, fmt.Errorf("sig %s: its release package: %w", s.Name, err)
	}
	return &plan.Package{Name: name, NVR: src.NVR(), Tree: digest, Source: src, Owner: ReleaseOwner}, nil
}

// ReleaseOwner owns the SIG release packages in a plan.
const ReleaseOwner = layout.ReleaseOwner
