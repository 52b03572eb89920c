// Package dispatch is the coordinator's side of distributed builds: an
// Executor (build.Executor) that queues each job on JetStream
// (core/engine) for the workers of its arch (core/worker) and returns
// what they built, checked, in the coordinator's own store.
//
// Run is idempotent by job key, which is what lets a coordinator restart
// mid-run and pick up where it was: it reads the job's state in KV, and
// is told of its changes by the Executor's one watch of every job's
// result (event-driven, no polling); it returns a result already
// recorded, joins a round already queued, and publishes otherwise; the message id is the key, so a job
// published twice (two Runs, or a Run before and after a restart) is
// queued once. A failed round is not reused: the next Run queues the
// next round, as a local build retries failed jobs.
//
// Nothing a worker returns is trusted. Every output and log is fetched
// by the digest its record names and hashed again (blobs.Fetch), and the
// outputs go through build.CheckOutputs, the checks the local executor
// runs on its own (the spec's declared RPMs are checked around any
// executor by readback.Checked). A result that fails them is deleted
// from KV, so that it is never reused, and its round is failed, so that
// the next Run builds the job again.
//
// A job whose deliveries ran out with its worker gone is reported by the
// server's advisory, kept in QUARRY_ADVISORIES: the Executor's reaper
// records that round's failure with every attempt.
package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/core/blobs"
	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/engine"
	"github.com/quarrylinux/quarry/core/store"
)

// Executor runs jobs on the workers.
type Executor struct {
	js    jetstream.JetStream
	kv    jetstream.KeyValue
	blobs blobs.Store
	store *store.Store
	log   hclog.Logger

	reaper jetstream.ConsumeContext
	watch  *watcher
	// transfers bounds the Runs moving blobs at once: every ready job
	// is queued, and each one's inputs and outputs are read whole.
	transfers chan struct{}

	// Queued, when set before the first Run, is called each time a Run
	// has queued its job (or found it queued) and waits for a worker.
	Queued func()
	queues sync.Map // arch → true once its consumer was seen
}

// New is an Executor over what engine.Setup made, keeping what it
// fetches in st. It reads the delivery advisories until Close.
func New(ctx context.Context, js jetstream.JetStream, bs blobs.Store, st *store.Store, log hclog.Logger) (*Executor, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	kv, err := js.KeyValue(ctx, engine.StateBucket)
	if err != nil {
		return nil, fmt.Errorf("dispatch: bucket %s (engine.Setup makes it): %w", engine.StateBucket, err)
	}
	e := &Executor{js: js, kv: kv, blobs: bs, store: st, log: log.Named("dispatch"), transfers: make(chan struct{}, maxTransfers)}
	if err := e.startReaper(ctx); err != nil {
		return nil, err
	}
	e.watch = startWatcher(kv, e.log)
	return e, nil
}

// Close stops reading advisories; jobs queued stay queued.
func (e *Executor) Close() {
	e.watch.close()
	e.reaper.Stop()
	<-e.reaper.Closed()
}

// Run implements build.Executor. The job's log reaches log once the job
// is over (a worker's log is not streamed yet).
func (e *Executor) Run(ctx context.Context, job *build.Job, log io.Writer) (*build.Record, error) {
	// Run is idempotent by key: while the cluster elects a new leader
	// (a node died) its requests go unanswered for a while, and the
	// whole Run is tried again.
	var rec *build.Record
	err := engine.Retry(ctx, maxTries+1, 30*time.Second, func(wait time.Duration, err error) {
		e.log.Warn("the engine did not answer: trying again", "job", job.ID, "in", wait, "error", err)
	}, func() (err error) {
		rec, err = e.run(ctx, job, log)
		return err
	})
	return rec, err
}

// maxTries bounds how often Run is tried again for an engine that does
// not answer (about ten minutes in all).
const maxTries = 24

func (e *Executor) run(ctx context.Context, job *build.Job, log io.Writer) (*build.Record, error) {
	key := job.Key()
	l := e.log.With("job", job.ID, "key", key)
	if err := e.checkQueue(ctx, engine.Queue(job.Arch, job.Env.Build)); err != nil {
		return nil, fmt.Errorf("%s: %w", job.ID, err)
	}
	// The waiter is added before anything is read or queued, so that no
	// change falls between the two.
	wt := e.watch.add(key)
	defer e.watch.remove(wt)
	if err := wt.read(ctx, e.kv, 0); err != nil {
		return nil, fmt.Errorf("%s: reading its state: %w", job.ID, err)
	}
	if done, rev := wt.result(); done != nil {
		l.Debug("built before")
		var rec *build.Record
		err := e.limit(ctx, func() (err error) { rec, err = e.finish(ctx, job, done, rev, 0, log); return err })
		return rec, err
	}
	if err := e.limit(ctx, func() error { return e.upload(ctx, job) }); err != nil {
		return nil, err
	}
	round, err := e.queue(ctx, job, key)
	if err != nil {
		return nil, err
	}
	// What the round is now: it may have failed before this Run knew
	// its number (a failure written early is never an event).
	if err := wt.read(ctx, e.kv, round); err != nil {
		return nil, fmt.Errorf("%s: reading its state: %w", job.ID, err)
	}
	l.Debug("waiting", "round", round)
	if e.Queued != nil {
		e.Queued()
	}
	for {
		done, rev, failed, resync := wt.state(round)
		if resync {
			if err := wt.read(ctx, e.kv, round); err != nil {
				return nil, fmt.Errorf("%s: reading its state: %w", job.ID, err)
			}
			continue
		}
		if done != nil {
			var rec *build.Record
			err := e.limit(ctx, func() (err error) { rec, err = e.finish(ctx, job, done, rev, round, log); return err })
			return rec, err
		}
		if failed != nil {
			return nil, e.failure(ctx, job, failed, log)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wt.wake:
		}
	}
}

// maxTransfers is how many Runs move blobs at once.
const maxTransfers = 8

// limit runs fn as one of the transfers at once.
func (e *Executor) limit(ctx context.Context, fn func() error) error {
	select {
	case e.transfers <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-e.transfers }()
	return fn()
}

func isNotFound(err error) bool { return errors.Is(err, jetstream.ErrKeyNotFound) }

// checkQueue refuses a job that no worker could ever pull.
func (e *Executor) checkQueue(ctx context.Context, arch string) error {
	if err := engine.CheckArch(arch); err != nil {
		return err
	}
	if _, ok := e.queues.Load(arch); ok {
		return nil
	}
	if _, err := e.js.Consumer(ctx, engine.JobsStream, engine.Consumer(arch)); err != nil {
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("no queue for %s jobs (engine.Setup makes one per arch of its Arches)", arch)
		}
		return fmt.Errorf("the %s queue: %w", arch, err)
	}
	e.queues.Store(arch, true)
	return nil
}

// upload puts the job's inputs the blob store lacks there, from the
// coordinator's store (which checks its own copies).
func (e *Executor) upload(ctx context.Context, job *build.Job) error {
	for _, in := range append([]build.Input{job.SRPM}, job.Buildroot...) {
		if err := blobs.Upload(ctx, e.store, e.blobs, in.SHA256); err != nil {
			return fmt.Errorf("%s: input %s: %w", job.ID, in.Name, err)
		}
	}
	return nil
}

// queue makes sure a round of the job is queued and returns it: the
// round there is, unless it failed, then the next one. Queued is
// compare-and-set, so that two Runs agree on the round; the publish
// itself may repeat (a Run after a restart), the message id dedupes it.
func (e *Executor) queue(ctx context.Context, job *build.Job, key string) (int, error) {
	qk := engine.QueuedKey(key)
	for {
		ent, err := e.kv.Get(ctx, qk)
		var round int
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			round = 1
			created, err := engine.Create(ctx, e.kv, qk, &engine.Queued{Round: 1, ID: job.ID, Since: time.Now().UTC()})
			if err != nil {
				return 0, fmt.Errorf("%s: %w", job.ID, err)
			}
			if !created {
				continue // another Run queued it: read its round
			}
		case err != nil:
			return 0, fmt.Errorf("%s: its queued round: %w", job.ID, err)
		default:
			var q engine.Queued
			if err := json.Unmarshal(ent.Value(), &q); err != nil {
				return 0, fmt.Errorf("%s: its queued round: %w", job.ID, err)
			}
			round = q.Round
			var f engine.Failed
			failed, err := engine.Get(ctx, e.kv, engine.FailedKey(key, round), &f)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", job.ID, err)
			}
			if failed {
				round++
				data, _ := json.Marshal(&engine.Queued{Round: round, ID: job.ID, Since: time.Now().UTC()})
				if _, err := e.kv.Update(ctx, qk, data, ent.Revision()); err != nil {
					if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
						continue // another Run moved it on: read again
					}
					return 0, fmt.Errorf("%s: queueing round %d: %w", job.ID, round, err)
				}
			}
		}
		data, _ := json.Marshal(&engine.Envelope{Key: key, Round: round, Job: *job})
		ack, err := e.js.Publish(ctx, engine.Subject(engine.Queue(job.Arch, job.Env.Build)), data, jetstream.WithMsgID(engine.MsgID(key, round)))
		if err != nil {
			return 0, fmt.Errorf("%s: queueing round %d: %w", job.ID, round, err)
		}
		e.log.Debug("queued", "job", job.ID, "round", round, "stream_seq", ack.Sequence, "already", ack.Duplicate)
		return round, nil
	}
}
