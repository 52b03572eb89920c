package dispatch

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/core/blobs"
	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/engine"
	"github.com/quarrylinux/quarry/core/safetext"
)

// finish takes a worker's record in: every blob it names fetched and
// hashed again, the outputs checked as local ones are. A record that
// fails is refused for good (refuse); the job's Record is the
// coordinator's own job, whatever the worker said it built.
func (e *Executor) finish(ctx context.Context, job *build.Job, d *engine.Done, rev uint64, round int, log io.Writer) (*build.Record, error) {
	key := job.Key()
	rec := d.Record
	worker := safetext.Terminal(d.Worker)
	check := func() error {
		if rec.Key != key {
			return fmt.Errorf("the record is of key %s", safetext.Terminal(rec.Key))
		}
		if err := blobs.Fetch(ctx, e.blobs, e.store, rec.Log); err != nil {
			return fmt.Errorf("its log: %w", err)
		}
		for _, o := range rec.Outputs {
			if err := blobs.Fetch(ctx, e.blobs, e.store, o.SHA256); err != nil {
				return fmt.Errorf("output %s: %w", safetext.Terminal(o.File), err)
			}
		}
		return build.CheckOutputs(e.store, job, rec.Outputs)
	}
	if err := check(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if engine.Unreachable(err) {
			// The engine not answering at all (a leader being elected)
			// says nothing of the result: Run reads it again. A blob
			// that does not come in time is refused, as a worker could
			// stall one for good.
			return nil, fmt.Errorf("%s: the result from worker %s: %w", job.ID, worker, err)
		}
		err = fmt.Errorf("%s: the result from worker %s is refused: %w", job.ID, worker, err)
		if rerr := e.refuse(ctx, key, rev, round, err); rerr != nil {
			return nil, fmt.Errorf("%w (%v)", rerr, err)
		}
		return nil, err
	}
	rec.Key, rec.Job = key, *job
	if log != nil {
		if data, err := e.store.Get(rec.Log); err == nil {
			log.Write(data)
		}
	}
	e.log.Debug("built", "job", job.ID, "worker", worker, "outputs", len(rec.Outputs))
	return &rec, nil
}

// refuse fails a refused result's round, so that the next Run queues
// the job again rather than wait for a round whose message was acked,
// and then deletes the result, so that no Run reuses it; a result
// written since is left. The failure comes first: a result deleted with
// its round left open would have the next Run wait on a round that is
// queued no more (its message id a duplicate for a day). Its error is
// the engine's when it could do neither: the Run tries again.
func (e *Executor) refuse(ctx context.Context, key string, rev uint64, round int, why error) error {
	if round == 0 {
		var q engine.Queued
		ok, err := engine.Get(ctx, e.kv, engine.QueuedKey(key), &q)
		if err != nil {
			return fmt.Errorf("failing a refused round: %w", err)
		}
		if ok {
			round = q.Round
		}
	}
	if round > 0 {
		if _, err := engine.Create(ctx, e.kv, engine.FailedKey(key, round), &engine.Failed{Round: round, Msg: why.Error()}); err != nil {
			return fmt.Errorf("failing a refused round: %w", err)
		}
	}
	if err := e.kv.Delete(ctx, engine.DoneKey(key), jetstream.LastRevision(rev)); err != nil {
		return fmt.Errorf("deleting a refused result: %w", err)
	}
	return nil
}

// failure is a failed round's error: the build's own, a *build.Error
// with its log (fetched, checked and kept), or an ExhaustedError.
func (e *Executor) failure(ctx context.Context, job *build.Job, f *engine.Failed, log io.Writer) error {
	if !f.Build {
		for _, a := range f.Attempts {
			if a.Log != "" {
				// Best effort: the attempt's error says what failed.
				blobs.Fetch(ctx, e.blobs, e.store, a.Log)
			}
		}
		return &ExhaustedError{Job: job.ID, Round: f.Round, Msg: f.Msg, Attempts: f.Attempts}
	}
	be := &build.Error{Job: job.ID, Msg: safetext.Terminal(f.Msg) + " (on worker " + safetext.Terminal(f.Worker) + ")"}
	if f.Log != "" {
		if err := blobs.Fetch(ctx, e.blobs, e.store, f.Log); err != nil {
			be.Msg += fmt.Sprintf("; its log is refused: %v", err)
		} else if data, err := e.store.Get(f.Log); err == nil {
			// The tail is the coordinator's reading of the checked log,
			// not the worker's word.
			be.Log, be.Tail = f.Log, safetext.Tail(string(data), 25)
			if log != nil {
				log.Write(data)
			}
		}
	}
	return be
}

// ExhaustedError is a job that no delivery built: every attempt, with
// its worker, its log (kept in the store when the worker uploaded it)
// and why it failed.
type ExhaustedError struct {
	Job      string
	Round    int
	Msg      string
	Attempts []engine.Attempt
}

func (e *ExhaustedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Job, safetext.Terminal(e.Msg))
	if len(e.Attempts) == 0 {
		b.WriteString("; no attempt was recorded")
	}
	for _, a := range e.Attempts {
		b.WriteString("\n    " + strings.ReplaceAll(safetext.Terminal(a.String()), "\n", "\n      "))
	}
	return b.String()
}
