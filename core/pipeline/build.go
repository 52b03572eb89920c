package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/readback"
	"github.com/quarrylinux/quarry/core/sandbox"
)

// BuildOptions are how to build a plan.
type BuildOptions struct {
	Jobs       int  // jobs at once (0: one per core)
	FailFast   bool // stop at the first failing job
	KeepFailed bool // keep failed jobs' folders under the work folder
	// Only builds these packages' jobs, and what they need (from the
	// cache when built before). The result cannot be published.
	Only []string
	// Exec runs the jobs; nil runs them on this machine (build.Local).
	Exec build.Executor
	// Log, when set, receives each job's log as it runs.
	Log func(job string) io.Writer
}

// Build runs every job of the plan it can (in a sandbox, in its
// buildroot), judges what they wrote at the gate (read back from the
// RPMs), and records the result for Publish. The error is a
// *BuildError when the core cannot be published; a SIG's failures fail
// that SIG only (Built.SIGErrors).
func (p *Pipeline) Build(ctx context.Context, pl *Planned, o BuildOptions) (*Built, error) {
	if len(o.Only) > 0 {
		sub, err := pl.Plan.Only(o.Only)
		if err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
		cp := *pl
		cp.Plan = sub
		pl = &cp
	}
	sigOf := pl.sigOf()
	start := Event{Kind: EventPhase, Phase: PhaseBuild, Total: len(pl.Jobs)}
	for _, j := range pl.Jobs {
		start.Jobs = append(start.Jobs, JobRef{ID: j.ID, Package: j.Package, Arch: j.Arch, SIG: sigOf[j.Package]})
	}
	p.emit(start)
	// Folders of jobs a killed run left behind are redone from scratch,
	// and the sandboxes it left mounted are taken down.
	if err := os.RemoveAll(p.Layout.WorkDir()); err != nil {
		return nil, err
	}
	if err := sandbox.SweepSlots(); err != nil {
		return nil, err
	}
	exec, jobs := o.Exec, o.Jobs
	if exec == nil {
		local := &build.Local{Store: p.Store, Work: p.Layout.WorkDir(), Keep: o.KeepFailed, Limits: p.BuildLimits(), Roots: pl.Roots}
		remote, stop, err := p.engineExec(ctx, local, o.Jobs)
		if err != nil {
			return nil, err
		}
		defer stop()
		exec = local
		if remote != nil {
			// Every ready job is queued: the workers' slots bound what
			// builds at once, not this machine's cores.
			exec, jobs = remote, max(len(pl.Jobs), 1)
		}
	}
	done, total := 0, len(pl.Jobs)
	b := &build.Builder{Plan: pl.Plan, Envs: pl.Envs, EnvErrors: pl.EnvErrors, Cache: p.Cache(),
		Exec:     p.checked(exec, pl),
		Jobs:     jobs,
		FailFast: o.FailFast,
		Log:      o.Log,
		Events: func(ev build.Event) {
			if ev.Status != build.Running {
				done++
			}
			e := jobEvent(ev, sigOf[ev.Package])
			e.Done, e.Total = done, total
			p.emit(e)
		},
	}
	res, err := b.Run(ctx)
	if err != nil {
		return nil, err
	}
	out := newBuilt(p, pl, res)
	out.Partial = len(o.Only) > 0
	// Packages that build for no arch, or whose SRPM could not be made,
	// have no jobs; they fail the build too. A SIG's failures fail that
	// SIG only.
	for _, pr := range pl.Problems {
		if pr.Arch != "" {
			continue
		}
		if sig := sigOf[pr.Package]; sig != "" {
			pl.failSIG(sig, fmt.Errorf("sig %s: %s", sig, pr))
			continue
		}
		out.CannotBuild = append(out.CannotBuild, pr.String())
	}
	for _, j := range pl.Jobs {
		err := res.Errors[j.ID]
		if err == nil {
			continue
		}
		if sig := sigOf[j.Package]; sig != "" {
			pl.failSIG(sig, fmt.Errorf("sig %s: %w", sig, err))
		} else if res.Status[j.ID] == build.Failed {
			out.CoreFailed = append(out.CoreFailed, err.Error())
		} else {
			out.CoreSkipped++
		}
	}
	p.phase(PhaseGate)
	refused, err := p.gate(pl, res)
	if err != nil {
		return nil, err
	}
	for _, r := range refused {
		out.Refused = append(out.Refused, r.Error())
	}
	out.setSIGs(pl)
	p.emit(Event{Kind: EventSummary, Phase: PhaseBuild, Done: total, Total: total, Counts: out.Counts()})
	if err := out.save(p.Layout.LastBuild()); err != nil {
		return nil, err
	}
	return out, out.Err()
}

// checked is the executor that refuses a job's RPMs that its spec did not
// declare, before they are cached or installed into another job.
func (p *Pipeline) checked(exec build.Executor, pl *Planned) build.Executor {
	return &readback.Checked{Exec: exec, Reader: p.readback(), Declared: readback.PlanDeclared(pl.Plan)}
}

// readback reads built RPMs from the store, caching their facts.
func (p *Pipeline) readback() *readback.Reader {
	return &readback.Reader{Store: p.Store, Cache: p.Layout.ReadbackCache()}
}

// buildError is the executor's error of a job that ran, if err is one.
func buildError(err error) *build.Error {
	var be *build.Error
	if errors.As(err, &be) {
		return be
	}
	return nil
}
