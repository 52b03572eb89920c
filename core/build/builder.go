package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"time"

	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/toolchain"
)

// Status of a job in a run.
const (
	Queued  = "queued"
	Running = "running"
	Built   = "built"
	Cached  = "cached"
	Failed  = "failed"
	Skipped = "skipped"
)

// Event tells the progress display about one job.
type Event struct {
	Job     string        `json:"job"`
	Package string        `json:"package"`
	Arch    string        `json:"arch"`
	Status  string        `json:"status"`
	Detail  string        `json:"detail,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns,omitempty"`
	// Record is a built or cached job's; Err is a failed or skipped
	// one's (a *Error when the job ran: its log is in the store).
	Record *Record `json:"-"`
	Err    error   `json:"-"`
}

// Builder runs a plan: one bounded pool over the ready jobs of every arch,
// highest rank (longest chain to the end) first.
type Builder struct {
	Plan *plan.Plan
	// Envs are the target arches' rpm settings; an arch in EnvErrors (a
	// missing cross toolchain) fails its jobs with that error.
	Envs      map[string]toolchain.Env
	EnvErrors map[string]error
	Cache     *Cache
	Exec      Executor
	Jobs      int
	FailFast  bool
	Events    func(Event)
	// Log, when set, receives every job's build log as it runs.
	Log func(job string) io.Writer
}

// Result is how a run went, per job.
type Result struct {
	Status  map[string]string  // job ID → status
	Records map[string]*Record // finished (built or cached) jobs
	Errors  map[string]error   // failed and skipped jobs → why
}

// Failed counts the jobs that failed or were skipped.
func (r *Result) Failed() int { return len(r.Errors) }

// Err joins the failures, sorted by job, or nil.
func (r *Result) Err() error {
	ids := make([]string, 0, len(r.Errors))
	for id := range r.Errors {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var errs []error
	for _, id := range ids {
		if r.Status[id] == Failed {
			errs = append(errs, r.Errors[id])
		}
	}
	return errors.Join(errs...)
}

type done struct {
	id  string
	rec *Record
	err error
}

// Run builds every job of the plan it can. Run's loop owns all state; the
// jobs' goroutines only send their results back over a channel.
func (b *Builder) Run(ctx context.Context) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := &Result{Status: map[string]string{}, Records: map[string]*Record{}, Errors: map[string]error{}}
	p := b.Plan
	dependents := map[string][]string{}
	waiting := map[string]int{}
	for _, j := range p.Jobs {
		res.Status[j.ID] = Queued
		waiting[j.ID] = len(j.Needs)
		for _, n := range j.Needs {
			dependents[n] = append(dependents[n], j.ID)
		}
	}
	var skip func(id, why string)
	skip = func(id, why string) {
		for _, d := range dependents[id] {
			if res.Status[d] == Queued {
				res.Status[d] = Skipped
				res.Errors[d] = fmt.Errorf("%s: skipped: %s", d, why)
				b.emitErr(p.Job(d), Skipped, res.Errors[d])
				skip(d, "needs "+d+", which was skipped")
			}
		}
	}
	fail := func(id string, err error) {
		res.Status[id] = Failed
		res.Errors[id] = err
		b.emitErr(p.Job(id), Failed, err)
		skip(id, "needs "+id+", which failed")
	}
	// What cannot build fails before anything starts.
	for _, j := range p.Jobs {
		if res.Status[j.ID] != Queued {
			continue
		}
		if pr := p.Blocked[j.ID]; pr != nil {
			fail(j.ID, errors.New(pr.String()))
		} else if err := b.EnvErrors[j.Arch]; err != nil {
			fail(j.ID, fmt.Errorf("%s: %w", j.ID, err))
		}
	}

	jobs := b.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	// Buffered so that jobs still running when Run returns (interrupted)
	// can finish without anyone waiting for them.
	results := make(chan done, len(p.Jobs))
	running := 0
	stopped := false
	for {
		// Start the ready jobs, highest rank first (p.Jobs is in that order).
		for _, j := range p.Jobs {
			if running >= jobs || stopped {
				break
			}
			if res.Status[j.ID] != Queued || waiting[j.ID] > 0 {
				continue
			}
			job, err := b.job(j, res)
			if err != nil {
				fail(j.ID, err)
				continue
			}
			if rec, ok := b.Cache.Get(job.Key()); ok {
				res.Status[j.ID] = Cached
				res.Records[j.ID] = rec
				b.emitRec(j, Cached, rec)
				b.finished(j.ID, dependents, waiting)
				continue
			}
			res.Status[j.ID] = Running
			running++
			b.emit(j, Running, "", 0)
			go func() {
				var log io.Writer
				if b.Log != nil {
					log = b.Log(job.ID)
				}
				rec, err := b.Exec.Run(ctx, job, log)
				if err == nil {
					err = b.Cache.Put(rec)
				}
				results <- done{id: job.ID, rec: rec, err: err}
			}()
		}
		if running == 0 {
			// Nothing runs and nothing more can start: jobs that were
			// cached may have readied others, so look again once.
			if !b.anyReady(res, waiting) || stopped {
				break
			}
			continue
		}
		d := <-results
		running--
		j := p.Job(d.id)
		if d.err != nil {
			if ctx.Err() != nil {
				if !stopped {
					return res, ctx.Err() // interrupted: finished jobs are cached
				}
				res.Status[d.id] = Skipped
				res.Errors[d.id] = fmt.Errorf("%s: stopped after the first failure (--fail-fast)", d.id)
				b.emitErr(j, Skipped, res.Errors[d.id])
				continue
			}
			fail(d.id, d.err)
			if b.FailFast && !stopped {
				stopped = true
				cancel()
			}
			continue
		}
		res.Status[d.id] = Built
		res.Records[d.id] = d.rec
		b.emitRec(j, Built, d.rec)
		b.finished(d.id, dependents, waiting)
	}
	why := "never became ready"
	if stopped {
		why = "stopped after the first failure (--fail-fast)"
	}
	for _, j := range p.Jobs {
		if res.Status[j.ID] == Queued {
			res.Status[j.ID] = Skipped
			res.Errors[j.ID] = fmt.Errorf("%s: skipped: %s", j.ID, why)
			b.emitErr(j, Skipped, res.Errors[j.ID])
		}
	}
	return res, nil
}

func (b *Builder) anyReady(res *Result, waiting map[string]int) bool {
	for _, j := range b.Plan.Jobs {
		if res.Status[j.ID] == Queued && waiting[j.ID] == 0 {
			return true
		}
	}
	return false
}

func (b *Builder) finished(id string, dependents map[string][]string, waiting map[string]int) {
	for _, d := range dependents[id] {
		waiting[d]--
	}
}

// job turns a plan job whose needs are finished into a Job: its buildroot
// is the needed binaries as those jobs built them.
func (b *Builder) job(j *plan.Job, res *Result) (*Job, error) {
	env, ok := b.Envs[j.Arch]
	if !ok {
		return nil, fmt.Errorf("%s: no build settings for %s", j.ID, j.Arch)
	}
	job := &Job{ID: j.ID, Package: j.Package, Arch: j.Arch, SRPM: Input{Name: j.SRPMFile, SHA256: j.SRPM}, Env: env}
	for _, n := range j.Install {
		rec := res.Records[n.Job]
		if rec == nil {
			return nil, fmt.Errorf("%s: needs %s from %s, which did not build", j.ID, n.Binary, n.Job)
		}
		found := false
		for _, o := range rec.Outputs {
			if o.Name == n.Binary {
				job.Buildroot = append(job.Buildroot, Input{Name: o.File, SHA256: o.SHA256})
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("%s: needs %s, which %s did not produce", j.ID, n.Binary, n.Job)
		}
	}
	return job, nil
}

func (b *Builder) emit(j *plan.Job, status, detail string, elapsed time.Duration) {
	if b.Events != nil {
		b.Events(Event{Job: j.ID, Package: j.Package, Arch: j.Arch, Status: status, Detail: detail, Elapsed: elapsed})
	}
}

func (b *Builder) emitRec(j *plan.Job, status string, rec *Record) {
	if b.Events != nil {
		ev := Event{Job: j.ID, Package: j.Package, Arch: j.Arch, Status: status, Record: rec}
		if status == Built {
			ev.Elapsed = rec.Duration()
		}
		b.Events(ev)
	}
}

func (b *Builder) emitErr(j *plan.Job, status string, err error) {
	if b.Events != nil {
		b.Events(Event{Job: j.ID, Package: j.Package, Arch: j.Arch, Status: status, Detail: err.Error(), Err: err})
	}
}
