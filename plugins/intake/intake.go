// Package intake turns what a SIG's plugin returns into plan packages:
// it launches the plugin through the host (package plugins), configures
// it, collects its repositories, packages, kernels and installers, checks
// them at the gate (plugins/policy), fetches its git sources, lays each
// package out as an imported one is and has the core's SRPM maker
// (core/srpm) make its SRPM. Source is the pipeline's SIG source over it.
package intake

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/srpm"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/plugins"
	"github.com/quarrylinux/quarry/plugins/policy"
	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/host"
)

// Intake runs SIG plugins and turns what they return, once it passes the
// policy gate, into packages for the core's own planner and builder.
type Intake struct {
	Host    *plugins.Host
	Store   *store.Store
	Sources *srpm.Sources // the core's SRPM maker and spec reader
	Distro  sdk.Distribution
	Gate    policy.Core
	Limits  policy.Limits
	// Core answers plugins' read-only questions; nil serves none.
	Core sdk.Core
	// GitSources are, by SIG, where its git sources may come from.
	GitSources map[string][]string
}

// SIG is one SIG's intake.
type SIG struct {
	Name       string
	Info       host.PluginInfo
	Repos      []sdk.Repo
	Packages   []*plan.Package   // Owner is the SIG
	RepoOf     map[string]string // package → the SIG's repo id
	Flavours   map[string]string // kernel package → flavour
	Installers []sdk.Installer
	Diags      sdk.Diagnostics // Configure's warnings
	// Release is <distro>-release-<sig>, which the core adds.
	Release *plan.Package
	// Dev says what ran instead of the SIG's locked plugin (a dev
	// override, or a plugin in debug mode); "" for the locked one.
	Dev string
}

// Run launches the SIG's plugin, configures it, collects its repositories,
// packages, kernels and installers, checks them at the gate, and makes
// each package's SRPM. Any failure fails this SIG only.
func (in *Intake) Run(ctx context.Context, name string, config []byte) (*SIG, error) {
	p, err := in.Host.Launch(ctx, name)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	s := &SIG{Name: name, Info: p.Info, Dev: p.Dev, RepoOf: map[string]string{}, Flavours: map[string]string{}}
	diags, err := p.Configure(ctx, sdk.ConfigureRequest{Config: config, Distribution: in.Distro, Core: in.Core})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, &ConfigError{SIG: name, Diags: diags}
	}
	s.Diags = diags
	gate := &policy.Gate{SIG: name, Distro: in.Distro.Name, Core: in.Gate, Limits: in.Limits, GitSources: in.GitSources[name]}
	var violations policy.Violations
	if p.Info.Has(host.CapRepos) {
		if s.Repos, err = p.Repos(ctx); err != nil {
			return nil, err
		}
		violations = append(violations, gate.Repos(s.Repos, in.Distro.Arches)...)
	}
	var pkgs []sdk.Package
	if p.Info.Has(host.CapPackages) {
		if pkgs, err = p.Packages(ctx); err != nil {
			return nil, err
		}
		violations = append(violations, gate.Packages(pkgs, s.Repos)...)
	}
	if p.Info.Has(host.CapKernels) {
		ks, err := p.Kernels(ctx)
		if err != nil {
			return nil, err
		}
		violations = append(violations, gate.Kernels(ks, s.Repos, in.Distro.Arches)...)
		for _, k := range ks {
			s.Flavours[k.Package.Name] = k.Flavour
			pkgs = append(pkgs, KernelPackage(k))
		}
	}
	if p.Info.Has(host.CapInstallers) {
		if s.Installers, err = p.Installers(ctx); err != nil {
			return nil, err
		}
		violations = append(violations, gate.Installers(s.Installers)...)
	}
	if err := violations.Err(); err != nil {
		return nil, err
	}
	for _, pk := range pkgs {
		tree, err := in.tree(ctx, pk)
		if err != nil {
			return nil, &plugins.Error{SIG: name, Call: "package " + pk.Name, Err: err}
		}
		digest, err := in.Store.PutTree(tree)
		if err != nil {
			return nil, err
		}
		src, err := in.Sources.Get(ctx, pk.Name, digest, nil)
		if err != nil {
			return nil, &plugins.Error{SIG: name, Call: "package " + pk.Name, Err: err}
		}
		var bins []plan.Binary
		for _, arch := range slices.Sorted(maps.Keys(src.Binaries)) {
			bins = append(bins, src.Binaries[arch]...)
		}
		violations = append(violations, gate.Binaries(pk.Name, bins, s.Flavours[pk.Name])...)
		s.Packages = append(s.Packages, &plan.Package{Name: pk.Name, NVR: src.NVR(), Tree: digest, Source: src, Owner: name})
		s.RepoOf[pk.Name] = pk.Repo
	}
	if err := violations.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// KernelPackage is a kernel flavour's source package, with its per-arch
// configs added to its sources as config-<arch>, where its spec picks
// them up.
func KernelPackage(k sdk.Kernel) sdk.Package {
	p := k.Package
	p.Files = append([]sdk.File(nil), p.Files...)
	for _, arch := range slices.Sorted(maps.Keys(k.Configs)) {
		p.Files = append(p.Files, sdk.File{Path: "config-" + arch, Mode: 0o644, Data: k.Configs[arch]})
	}
	return p
}

// tree fetches a SIG package's files (from git when it names a commit)
// and lays them out.
func (in *Intake) tree(ctx context.Context, p sdk.Package) (store.Tree, error) {
	files := p.Files
	if p.Git != nil {
		var err error
		if files, err = gitFiles(ctx, *p.Git); err != nil {
			return nil, err
		}
	}
	return SourceTree(p.Spec, files)
}

// SourceTree lays a SIG package's files out the way an imported package
// is: the spec in SPECS/, everything else in SOURCES/.
func SourceTree(spec string, files []sdk.File) (store.Tree, error) {
	t := store.Tree{}
	for _, f := range files {
		dst := "SOURCES/" + f.Path
		if f.Path == spec {
			dst = "SPECS/" + path.Base(f.Path)
		}
		t[dst] = &store.File{Data: f.Data, Exec: f.Mode&0o111 != 0}
	}
	if _, ok := t["SPECS/"+path.Base(spec)]; !ok {
		return nil, fmt.Errorf("its spec %s is not among its files", spec)
	}
	return t, nil
}

// ConfigError is a SIG config the plugin refused.
type ConfigError struct {
	SIG   string
	Diags sdk.Diagnostics
}

func (e *ConfigError) Error() string {
	var lines []string
	for _, d := range e.Diags {
		if d.Severity == sdk.Error {
			lines = append(lines, d.String())
		}
	}
	return fmt.Sprintf("sig %s: its config is refused: %s", e.SIG, strings.Join(lines, "; "))
}

// IsConfig reports whether err is a refused config.
func IsConfig(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}
