package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/arch"
	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/plugins"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "show the build graph: packages, arches, order and the critical path",
		Description: `Makes each imported package's SRPM (once; they are cached), reads which
arches it builds for (the distribution's arches ∩ ExclusiveArch − ExcludeArch,
or one noarch build) and matches its BuildRequires against what the batch's
binary packages provide, or the build host. Prints the jobs in the order
they can run, and what cannot build: a BuildRequires nothing provides, a
dependency cycle, a package that builds for no arch. Exits non-zero when
anything cannot build.

With --why PKG, says for each of PKG's jobs whether quarry build will run it
and why (a changed SRPM, toolchain or buildroot), or reuse its cached output.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "why", Usage: "explain whether and why `PKG`'s jobs will run"},
			outFlag(),
		},
		Action: runPlan,
	}
}

func runPlan(c *cli.Context) error {
	e, err := setup(c)
	if err != nil {
		return err
	}
	pl, err := e.makePlan(c)
	if err != nil {
		return err
	}
	p := pl.Plan
	if pkg := c.String("why"); pkg != "" {
		return explain(e, pl, pkg)
	}
	if e.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(p); err != nil {
			return err
		}
	} else {
		printPlan(p)
	}
	if len(p.Problems) > 0 {
		return cli.Exit(fmt.Sprintf("quarry: %d packages or jobs cannot build (see above)", len(p.Problems)), 1)
	}
	return nil
}

// planned is a plan and the per-arch rpm settings it was made with.
type planned struct {
	*plan.Plan
	Envs      map[string]plan.Env
	EnvErrors map[string]error
	// SIGs passed the gate; SIGErrors failed, by SIG name.
	SIGs      []*plugins.SIG
	SIGErrors map[string]error
	// Roots are the unpacked buildroots by digest (none in the cross
	// mode).
	Roots map[string]string
	// gated is set once the built RPMs were read back and judged.
	gated bool
}

// makePlan loads the imported packages and plans them.
func (e *env) makePlan(c *cli.Context) (*planned, error) {
	lk, err := e.loadLock()
	if err != nil {
		return nil, err
	}
	images, err := e.buildroots(lk, false)
	if err != nil {
		return nil, err
	}
	roots, err := e.unpackRoots(images)
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
	extra, err := e.releaseFiles(c)
	if err != nil {
		return nil, err
	}
	l := &plan.Loader{Config: e.cfg, Lock: lk, Store: e.store, StateDir: e.state, Jobs: c.Int("jobs"), Extra: extra, Limits: e.buildLimits(), Buildroots: pins, Roots: roots}
	pkgs, problems, err := l.Load(c.Context)
	if err != nil {
		return nil, err
	}
	sigs, sigErrs := e.intakeSIGs(c, l, pkgs)
	all := pkgs
	for _, s := range sigs {
		all = append(all, s.Packages...)
		all = append(all, s.Release)
	}
	// What a job finds beyond the batch: the buildroot's tools (the build
	// host's arch's, which noarch jobs build in too), or the host's.
	host := plan.DetectHost()
	if pins != nil {
		host = plan.DetectHostIn(roots[pins[arch.Host()]])
	}
	p := plan.Make(plan.Input{Arches: e.cfg.ArchNames(), Packages: all, Host: host, Weight: e.weights()})
	p.Problems = append(problems, p.Problems...)
	envs, envErrs := l.Envs()
	return &planned{Plan: p, Envs: envs, EnvErrors: envErrs, SIGs: sigs, SIGErrors: sigErrs, Roots: roots}, nil
}

func printPlan(p *plan.Plan) {
	fmt.Printf("%d packages, %d jobs, arches %s (+ noarch)\n\n", len(p.Packages), len(p.Jobs), strings.Join(p.Arches, " "))
	for _, pkg := range p.Packages {
		fmt.Printf("  %-20s %-28s %s\n", pkg.Name, pkg.NVR, strings.Join(pkg.Arches, " "))
	}
	fmt.Printf("\njobs, in order (rank: the longest chain of estimated seconds from the job to the end)\n")
	for i, j := range p.Jobs {
		needs := "-"
		if len(j.Needs) > 0 {
			needs = strings.Join(j.Needs, " ")
		}
		status := ""
		if b := p.Blocked[j.ID]; b != nil {
			status = "  BLOCKED: " + b.Reason
		}
		fmt.Printf("  %3d. %-26s rank %-6.1f needs %s%s\n", i+1, j.ID, j.Rank, needs, status)
	}
	total := 0.0
	for _, id := range p.CriticalPath {
		total += p.Job(id).Weight
	}
	fmt.Printf("\ncritical path (%d jobs, ~%.1fs): %s\n", len(p.CriticalPath), total, strings.Join(p.CriticalPath, " → "))
	if len(p.Problems) > 0 {
		fmt.Printf("\ncannot build:\n")
		for _, pr := range p.Problems {
			fmt.Printf("  %s\n", pr)
		}
	}
}
