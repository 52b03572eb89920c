package pipeline

import (
	"cmp"
	"context"
	"io"

	"github.com/quarrylinux/quarry/core/lock"
)

// RunOptions are what a whole run does.
type RunOptions struct {
	// Command and Args name the run in the history.
	Command string
	Args    []string
	Import  bool // look upstream first (Import)
	Plan    PlanOptions
	Build   BuildOptions
	// Publish publishes the build (a build of some packages never is).
	Publish bool
	// AfterBuild, when set, runs once the core built, before anything is
	// published (the CLI's report, the reproducibility check); its error
	// stops the run.
	AfterBuild func(ctx context.Context, pl *Planned, b *Built) error
}

// Report is what each stage of a run returned; a stage that did not run
// is nil.
type Report struct {
	Imported  *Imported
	Planned   *Planned
	Built     *Built
	Published *Published
}

// Run is the pipeline: import, plan, build (and gate), publish. The lock
// an import makes is written only once the run succeeded (published, or
// built when it does not publish): a failed run leaves quarry.lock as it
// was.
func (p *Pipeline) Run(ctx context.Context, o RunOptions) (rep *Report, err error) {
	rec, err := p.record(cmp.Or(o.Command, "build"), o.Args)
	if err != nil {
		return &Report{}, err
	}
	if rec != nil {
		if o.Build.Log == nil {
			o.Build.Log = rec.logWriter
		} else {
			caller := o.Build.Log
			o.Build.Log = func(job string) io.Writer { return io.MultiWriter(rec.logWriter(job), caller(job)) }
		}
		defer func() {
			if ferr := rec.finish(ctx, rep, err); ferr != nil && err == nil {
				err = ferr
			}
			p.Events, p.run = rec.next, 0
		}()
	}
	return p.run1(ctx, o)
}

// PublishRun is Publish on its own (quarry publish), recorded as a run.
func (p *Pipeline) PublishRun(ctx context.Context, b *Built) (res *Published, err error) {
	rec, err := p.record("publish", nil)
	if err != nil {
		return nil, err
	}
	if rec != nil {
		defer func() {
			if ferr := rec.finish(ctx, &Report{Built: b, Published: res}, err); ferr != nil && err == nil {
				err = ferr
			}
			p.Events, p.run = rec.next, 0
		}()
	}
	return p.Publish(ctx, b)
}

// Rollback makes the compose before the current one current again,
// recorded as a run.
func (p *Pipeline) Rollback(ctx context.Context) (from, to string, err error) {
	rec, err := p.record("rollback", nil)
	if err != nil {
		return "", "", err
	}
	p.emit(Event{Kind: EventPhase, Phase: PhasePublish, Detail: "rollback"})
	from, to, err = p.Publisher().Rollback()
	if rec != nil {
		rep := &Report{}
		if err == nil {
			rep.Published = &Published{Compose: to, Out: p.Layout.Out}
		}
		if ferr := rec.finish(ctx, rep, err); ferr != nil && err == nil {
			err = ferr
		}
		p.Events, p.run = rec.next, 0
	}
	return from, to, err
}

func (p *Pipeline) run1(ctx context.Context, o RunOptions) (*Report, error) {
	rep := &Report{}
	lk, err := lock.Load(p.Layout.LockFile())
	if err != nil {
		return rep, err
	}
	if o.Import {
		if rep.Imported, err = p.Import(ctx, lk, nil, o.Plan.Jobs); err != nil {
			return rep, err
		}
		lk = rep.Imported.Lock
	}
	if rep.Planned, err = p.Plan(ctx, lk, o.Plan); err != nil {
		return rep, err
	}
	if rep.Built, err = p.Build(ctx, rep.Planned, o.Build); err != nil {
		return rep, err
	}
	if o.AfterBuild != nil {
		if err := o.AfterBuild(ctx, rep.Planned, rep.Built); err != nil {
			return rep, err
		}
	}
	if !o.Publish || rep.Built.Partial {
		if err := p.commitLock(rep.Built); err != nil {
			return rep, err
		}
		if len(rep.Built.SIGErrors) > 0 {
			return rep, &SIGsError{Errors: rep.Built.SIGErrorList()}
		}
		return rep, nil
	}
	rep.Published, err = p.Publish(ctx, rep.Built)
	return rep, err
}
