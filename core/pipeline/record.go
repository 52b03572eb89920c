package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"sync"
	"syscall"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/history"
	"github.com/quarrylinux/quarry/core/layout"
	"github.com/quarrylinux/quarry/core/lock"
)

// recording is a run as it is recorded in the history: every event of
// the pipeline updates it, and the running jobs' logs are written where
// the console and quarry log --follow read them while they grow.
type recording struct {
	db   *history.DB
	id   int64
	lay  layout.Layout // where the live logs go
	mu   sync.Mutex
	jobs map[string]*history.Job
	errs []string
	open map[string]*os.File // live logs by job
	next func(Event)         // the caller's Events
	fail error               // the first error writing the history
}

// record begins a run in the history (nil: none) and returns the events
// sink that records it, chained before the caller's.
func (p *Pipeline) record(command string, args []string) (*recording, error) {
	if p.History == nil {
		return nil, nil
	}
	run := history.Run{Command: command, Args: args, PID: os.Getpid(), Started: p.now().UTC(), ConfigDigest: p.configFileDigest()}
	if u, err := user.Current(); err == nil {
		run.User = u.Username
	}
	if p.Via != "" {
		run.User += " via " + p.Via
	}
	run.Host, _ = os.Hostname()
	if lk, err := lock.Load(p.Layout.LockFile()); err == nil {
		run.LockDigest = lk.Digest()
	}
	id, err := p.History.Begin(run)
	if err != nil {
		return nil, fmt.Errorf("run history: %w", err)
	}
	r := &recording{db: p.History, id: id, lay: p.Layout, jobs: map[string]*history.Job{}, open: map[string]*os.File{}, next: p.Events}
	p.Events = r.event
	p.run = id
	return r, nil
}

func (r *recording) event(ev Event) {
	r.mu.Lock()
	r.apply(ev)
	r.mu.Unlock()
	if r.next != nil {
		r.next(ev)
	}
}

func (r *recording) apply(ev Event) {
	var err error
	switch ev.Kind {
	case EventPhase:
		err = r.db.SetPhase(r.id, ev.Phase)
		if ev.Phase == PhaseBuild && len(ev.Jobs) > 0 {
			var jobs []history.Job
			for _, j := range ev.Jobs {
				hj := history.Job{Run: r.id, ID: j.ID, Package: j.Package, Arch: j.Arch, SIG: j.SIG, Status: build.Queued}
				r.jobs[j.ID] = &hj
				jobs = append(jobs, hj)
			}
			if e := r.db.AddJobs(r.id, jobs); err == nil {
				err = e
			}
		}
	case EventJob:
		j := r.jobs[ev.Job]
		if j == nil || ev.Phase != PhaseBuild {
			return
		}
		j.Status, j.Detail = ev.Status, firstLine(ev.Detail)
		switch ev.Status {
		case build.Running:
			j.Started = ev.Time
		case build.Built, build.Cached, build.Failed, build.Skipped:
			if j.Started.IsZero() {
				j.Started = ev.Time
			}
			if ev.Status == build.Built {
				j.Started = ev.Time.Add(-ev.Elapsed)
			}
			j.Ended = ev.Time
			j.Key, j.Log, j.Error = ev.Key, ev.Log, ev.Error
			j.Outputs = nil
			for _, o := range ev.Outputs {
				j.Outputs = append(j.Outputs, history.Output{File: o.File, SHA256: o.SHA256, Name: o.Name, Arch: o.Arch})
			}
			r.closeLog(ev.Job)
		}
		err = r.db.UpdateJob(r.id, *j)
	case EventSIG:
		if ev.Status == "failed" {
			r.errs = append(r.errs, ev.Detail)
		}
	case EventPublished:
		err = r.db.Published(history.Compose{ID: ev.Compose, Run: r.id, At: ev.Time, Packages: ev.Counts["packages"], Repos: ev.Counts["repos"]})
	}
	if err != nil && r.fail == nil {
		r.fail = err
	}
}

// logWriter is where a running job's log goes while it runs.
func (r *recording) logWriter(job string) io.Writer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := os.MkdirAll(r.lay.RunLogs(r.id), 0o755); err != nil {
		return io.Discard
	}
	f, err := os.OpenFile(r.lay.LiveLog(r.id, job), os.O_CREATE|os.O_TRUNC|os.O_WRONLY|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return io.Discard
	}
	r.open[job] = f
	return f
}

func (r *recording) closeLog(job string) {
	if f := r.open[job]; f != nil {
		f.Close()
		delete(r.open, job)
	}
}

// finish records how the run ended; its live logs are gone then (a
// finished job's log is in the store).
func (r *recording) finish(ctx context.Context, rep *Report, runErr error) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for job := range r.open {
		r.closeLog(job)
	}
	os.RemoveAll(r.lay.RunLogs(r.id))
	state, compose := history.StateSucceeded, ""
	errs := r.errs
	var be *BuildError
	var se *SIGsError
	switch {
	case errors.Is(runErr, context.Canceled) || ctx.Err() != nil:
		state = history.StateInterrupted
	case errors.As(runErr, &be):
		state = history.StateFailed
		errs = append(append(append(errs, be.CannotBuild...), be.Failed...), be.Refused...)
		errs = append(errs, be.Error())
	case errors.As(runErr, &se):
		state = history.StateFailed
		errs = se.Errors
	case runErr != nil:
		state = history.StateFailed
		errs = append(errs, runErr.Error())
	}
	if rep != nil && rep.Published != nil {
		compose = rep.Published.Compose
		if rep.Published.Nothing {
			if state == history.StateSucceeded {
				state = history.StateNothing
			}
			compose = ""
		}
	}
	if err := r.db.Finish(r.id, state, compose, errs); err != nil {
		return fmt.Errorf("run history: %w", err)
	}
	if r.fail != nil {
		return fmt.Errorf("run history: %w", r.fail)
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
