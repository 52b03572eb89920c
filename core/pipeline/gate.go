package pipeline

import (
	"fmt"
	"maps"
	"slices"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/readback"
	"github.com/quarrylinux/quarry/plugins/policy"
)

// gate judges what this run's jobs wrote (built or cached), read back
// from the RPMs in the store, before anything is signed or composed:
// every job's RPMs against what its spec declared, then each SIG's RPMs
// against the core's (policy.Gate.Built). A SIG that fails fails alone
// (failSIG); the core's problems are returned, and fail the build.
func (p *Pipeline) gate(pl *Planned, res *build.Result) (readback.Problems, error) {
	rd := p.readback()
	declared := readback.PlanDeclared(pl.Plan)
	sigOf := pl.sigOf()
	owner := map[string]string{}
	for _, pk := range pl.Packages {
		owner[pk.Name] = pk.Owner
	}
	var coreProblems readback.Problems
	var core []*readback.RPM
	bySIG := map[string][]*readback.RPM{}
	undeclared := map[string]readback.Problems{}
	for _, j := range pl.Jobs {
		rec := res.Records[j.ID]
		if rec == nil {
			continue
		}
		sig := sigOf[j.Package]
		rpms, err := rd.Job(rec)
		if err != nil {
			if sig == "" {
				return nil, fmt.Errorf("%s: %w", j.ID, err)
			}
			pl.failSIG(sig, fmt.Errorf("sig %s: %s: %w", sig, j.ID, err))
			continue
		}
		ps := readback.Declared(j.ID, j.Package, declared(j.Package, j.Arch), rpms)
		switch {
		case sig != "":
			undeclared[sig] = append(undeclared[sig], ps...)
			bySIG[sig] = append(bySIG[sig], rpms...)
		case owner[j.Package] == "":
			coreProblems = append(coreProblems, ps...)
			core = append(core, rpms...)
		}
	}
	for _, sig := range slices.Sorted(maps.Keys(undeclared)) {
		if ps := undeclared[sig]; len(ps) > 0 {
			pl.failSIG(sig, fmt.Errorf("sig %s: %w", sig, ps))
		}
	}
	// The core's names: its built RPMs', its source packages', and what its
	// specs declare for every arch (an arch this run does not build too).
	var names []string
	for _, pk := range pl.Packages {
		if pk.Owner != "" {
			continue
		}
		names = append(names, pk.Name)
		for _, bins := range pk.Source.Binaries {
			for _, b := range bins {
				names = append(names, b.Name)
			}
		}
	}
	idx := readback.NewIndex(core, names...)
	for _, s := range slices.Clone(pl.SIGs) {
		g := &policy.Gate{SIG: s.Name, Distro: p.Config.Distribution.Name}
		vs := g.Built(bySIG[s.Name], policy.Built{Core: idx, Flavours: s.Flavours, Release: s.Release.Name, ReleasePaths: p.Layout.ReleasePaths(s.Name)})
		if err := vs.Err(); err != nil {
			pl.failSIG(s.Name, err)
		}
	}
	return coreProblems, nil
}
