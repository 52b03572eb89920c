package pipeline

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/quarrylinux/quarry/core/arch"
	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/srpm"
	"github.com/quarrylinux/quarry/core/toolchain"
	"github.com/quarrylinux/quarry/plugins/intake"
)

// Planned is a plan, the per-arch rpm settings it was made with, and the
// SIGs it holds.
type Planned struct {
	*plan.Plan
	// Lock is what it was planned from.
	Lock      *lock.Lock
	Envs      map[string]toolchain.Env
	EnvErrors map[string]error
	// SIGs passed the gate; SIGErrors failed, by SIG name.
	SIGs      []*intake.SIG
	SIGErrors map[string]error
	// Roots are the unpacked buildroots by digest (none in the cross
	// mode).
	Roots map[string]string
}

// PlanOptions are how to plan.
type PlanOptions struct {
	// Jobs bounds the SRPMs made at once (0: one per core).
	Jobs int
}

// Plan makes every package's SRPM (cached), runs the SIGs' intake, and
// plans the jobs of the core, the SIGs and the SIG release packages.
// What cannot build is in the plan's Problems; a SIG that fails is in
// SIGErrors, and the others and the core go on.
func (p *Pipeline) Plan(ctx context.Context, lk *lock.Lock, o PlanOptions) (*Planned, error) {
	p.phase(PhasePlan)
	images, err := p.Buildroots(lk, false)
	if err != nil {
		return nil, err
	}
	roots, err := p.UnpackRoots(images)
	if err != nil {
		return nil, err
	}
	var pins map[string]string // arch → digest, nil in the cross mode
	if images != nil {
		pins = map[string]string{}
		for a, img := range images {
			pins[a] = img.Digest
		}
	}
	extra, err := p.releaseFiles()
	if err != nil {
		return nil, err
	}
	l := &srpm.Loader{Config: p.Config, Lock: lk, Store: p.Store, StateDir: p.Layout.State, Jobs: o.Jobs, Extra: extra, Limits: p.BuildLimits(), Buildroots: pins, Roots: roots}
	pkgs, problems, err := l.Load(ctx)
	if err != nil {
		return nil, err
	}
	sigs, sigErrs := p.intake(ctx, l, pkgs)
	all := pkgs
	for _, s := range sigs {
		all = append(all, s.Packages...)
		all = append(all, s.Release)
	}
	// What a job finds beyond the batch: the buildroot's tools (the build
	// host's arch's, which noarch jobs build in too), or the host's.
	var host *toolchain.Host
	if pins != nil {
		host = toolchain.DetectHostIn(roots[pins[arch.Host()]])
	} else {
		host = toolchain.DetectHost()
	}
	pl := plan.Make(plan.Input{Arches: p.Config.ArchNames(), Packages: all, Host: host, Weight: p.weights()})
	pl.Problems = append(problems, pl.Problems...)
	envs, envErrs := l.Envs()
	return &Planned{Plan: pl, Lock: lk, Envs: envs, EnvErrors: envErrs, SIGs: sigs, SIGErrors: sigErrs, Roots: roots}, nil
}

// weights estimates each job's duration from its last build.
func (p *Pipeline) weights() func(string) float64 {
	c := p.Cache()
	return func(id string) float64 {
		if rec, ok := c.Latest(id); ok {
			return rec.Duration().Seconds()
		}
		return 0
	}
}

// Explain says for each of pkg's jobs whether a build would run it and
// why; false when pkg is not a package of the plan.
func (p *Pipeline) Explain(pl *Planned, pkg string) (map[string]string, []string, bool) {
	why := build.Explain(pl.Plan, pl.Envs, pl.EnvErrors, p.Cache())
	out := map[string]string{}
	var cannot []string
	found := false
	for _, j := range pl.Jobs {
		if j.Package == pkg {
			found = true
			out[j.ID] = why[j.ID]
		}
	}
	for _, pr := range pl.Problems {
		if pr.Package == pkg && pr.Arch == "" {
			found = true
			cannot = append(cannot, pr.Reason)
		}
	}
	return out, cannot, found
}

// sigOf maps each SIG package (and release package) to its SIG.
func (pl *Planned) sigOf() map[string]string {
	out := map[string]string{}
	for _, s := range pl.SIGs {
		for _, pk := range s.Packages {
			out[pk.Name] = s.Name
		}
		out[s.Release.Name] = s.Name
	}
	return out
}

// failSIG takes a SIG out of this run's publication; the first error is
// the one reported.
func (pl *Planned) failSIG(name string, err error) {
	if pl.SIGErrors == nil {
		pl.SIGErrors = map[string]error{}
	}
	if pl.SIGErrors[name] == nil {
		pl.SIGErrors[name] = err
	}
	pl.SIGs = slices.DeleteFunc(pl.SIGs, func(s *intake.SIG) bool { return s.Name == name })
}

// SIGErrorList is the SIGs' failures, sorted by SIG.
func (pl *Planned) SIGErrorList() []error {
	var out []error
	for _, name := range slices.Sorted(maps.Keys(pl.SIGErrors)) {
		out = append(out, pl.SIGErrors[name])
	}
	return out
}

// releaseFiles are what the core adds to the release package's sources:
// the .repo file of the core repositories and the public key.
func (p *Pipeline) releaseFiles() (map[string]map[string][]byte, error) {
	pkg := p.Config.Release.Package
	if pkg == "" {
		return nil, nil
	}
	key, err := p.Keys.Core()
	if err != nil {
		return nil, fmt.Errorf("release package %s carries the public key: %w", pkg, err)
	}
	pub, err := key.PublicArmored()
	if err != nil {
		return nil, err
	}
	var defs []compose.RepoDef
	for _, r := range p.Config.Repositories {
		defs = append(defs, compose.RepoDef{Name: r.Name, Optional: r.Optional})
	}
	d := p.Config.Distribution
	repo := compose.RepoFile(d.Name, d.PrettyName, p.PublishURL(), p.Layout.KeyName(), defs)
	return map[string]map[string][]byte{pkg: {d.Name + ".repo": repo, p.Layout.KeyName(): pub}}, nil
}
