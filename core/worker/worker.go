// Package worker builds the jobs a coordinator queued on JetStream
// (core/engine), on a machine of one arch: it pulls its arch's queue
// (and noarch's, on x86_64 and aarch64), fetches each job's inputs by
// digest from the shared blob store and checks them, builds it with the
// same executor a local build uses (build.Local, its limits and roots),
// uploads the outputs and the log by digest, records the result and
// acks.
//
// While a job builds the worker says so (InProgress) every third of the
// ack wait: a worker that dies or hangs stops saying it, and the server
// hands the job to another after the ack wait. Each delivery is recorded
// as an attempt, so that a job that never builds is reported with every
// worker that tried it and why. A build that fails as builds do (a
// *build.Error: rpmbuild failed, a limit was hit) fails at once, since
// another delivery would fail the same way; only infrastructure errors
// (an input that would not fetch, a store, the connection) are retried,
// up to the consumer's MaxDeliver. A result is written with KV Create:
// when two deliveries of a job both finish, the first result stands and
// the second is dropped, and since outputs are named by their content
// the second upload changed nothing. A worker holds no signing key: what
// it returns is checked and signed by the coordinator.
package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/core/blobs"
	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/engine"
	"github.com/quarrylinux/quarry/core/store"
)

// Worker builds one arch's jobs.
type Worker struct {
	// Name names the worker in attempts and failures.
	Name  string
	Arch  string
	JS    jetstream.JetStream
	Blobs blobs.Store
	// Exec builds a job once its inputs are in Store: build.Local in
	// production, over Store, with the machine's limits and buildroots
	// (and Images to find the ones it lacks). A job whose buildroot it
	// cannot find fails on this worker as an infrastructure error, and
	// another worker may take it.
	Exec  build.Executor
	Store *store.Store
	// Jobs is how many jobs run at once (0: 1).
	Jobs int
	Log  hclog.Logger
	// PullWait is how long one pull request waits on the server before
	// the next is made (0: 5s); a job arriving is taken at once. One a
	// dead server held is lost: it bounds how long a worker waits then.
	PullWait time.Duration
	// RetryDelay is how long a job that failed for an infrastructure
	// reason waits before its next delivery (0: none).
	RetryDelay time.Duration
}

// queue is one of the worker's consumers, with its limits.
type queue struct {
	name       string
	cons       jetstream.Consumer
	ackWait    time.Duration
	maxDeliver int
}

// Run pulls and builds jobs until ctx ends; it returns nil then, or the
// error that kept it from starting.
func (w *Worker) Run(ctx context.Context) error {
	if w.Name == "" || w.JS == nil || w.Blobs == nil || w.Exec == nil || w.Store == nil {
		return errors.New("worker: Name, JS, Blobs, Exec and Store are all needed")
	}
	if err := engine.CheckArch(w.Arch); err != nil {
		return fmt.Errorf("worker %s: %w", w.Name, err)
	}
	if w.Log == nil {
		w.Log = hclog.NewNullLogger()
	}
	w.Log = w.Log.With("worker", w.Name)
	kv, err := w.JS.KeyValue(ctx, engine.StateBucket)
	if err != nil {
		return fmt.Errorf("worker %s: bucket %s (engine.Setup makes it): %w", w.Name, engine.StateBucket, err)
	}
	var queues []*queue
	for _, name := range engine.Consumers(w.Arch) {
		c, err := w.JS.Consumer(ctx, engine.JobsStream, name)
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("worker %s: no job of the engine's is for %s: it has queues for %s only (the coordinator's arches)", w.Name, w.Arch, strings.Join(w.queueNames(ctx), ", "))
		}
		if err != nil {
			return fmt.Errorf("worker %s: consumer %s (engine.Setup makes one per arch): %w", w.Name, name, err)
		}
		cfg := c.CachedInfo().Config
		queues = append(queues, &queue{name: name, cons: c, ackWait: cfg.AckWait, maxDeliver: cfg.MaxDeliver})
	}
	n := max(w.Jobs, 1)
	w.Log.Info("worker started", "arch", w.Arch, "queues", engine.Consumers(w.Arch), "jobs", n)
	sl := &slots{free: n, changed: make(chan struct{})}
	var wg sync.WaitGroup
	for _, q := range queues {
		wg.Go(func() { w.pull(ctx, kv, q, sl, &wg) })
	}
	wg.Wait()
	return nil
}

// queueNames are the queues the engine has.
func (w *Worker) queueNames(ctx context.Context) []string {
	var names []string
	st, err := w.JS.Stream(ctx, engine.JobsStream)
	if err != nil {
		return []string{"(none: " + err.Error() + ")"}
	}
	l := st.ConsumerNames(ctx)
	for n := range l.Name() {
		names = append(names, strings.TrimPrefix(n, engine.Consumer("")))
	}
	slices.Sort(names)
	return names
}

// pull takes q's jobs while a slot is free, and builds each in a slot.
// Every queue is pulled at once, so that a job is taken as soon as it
// is queued, whichever queue it is on; a queue is not pulled while every
// slot is taken, so that a worker holds at most one job per queue more
// than it has slots. A job that came while the others took the last
// slot waits for one with its heartbeat going: its ack wait must not
// run out while it is held.
func (w *Worker) pull(ctx context.Context, kv jetstream.KeyValue, q *queue, sl *slots, wg *sync.WaitGroup) {
	failures := 0
	for sl.waitFree(ctx, false) {
		msg, err := w.next(ctx, q)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrConnectionClosed) {
				return
			}
			// A server that is away: back off a little, not in a loop.
			failures++
			w.Log.Warn("pulling jobs", "queue", q.name, "error", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(min(failures, 10)) * 200 * time.Millisecond):
			}
			continue
		}
		failures = 0
		if msg == nil {
			continue
		}
		stop := heartbeat(msg, q.ackWait)
		took := sl.waitFree(ctx, true)
		stop()
		if !took {
			msg.Nak() // stopping: another worker takes it now
			return
		}
		wg.Go(func() {
			defer sl.release()
			w.handle(ctx, kv, q, msg)
		})
	}
}

// slots counts a worker's free slots.
type slots struct {
	mu      sync.Mutex
	free    int
	changed chan struct{} // closed when free grows
}

// waitFree returns once a slot is free, taking it with take; false when
// ctx ended first.
func (s *slots) waitFree(ctx context.Context, take bool) bool {
	for {
		s.mu.Lock()
		if s.free > 0 {
			if take {
				s.free--
			}
			s.mu.Unlock()
			return true
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.free++
	close(s.changed)
	s.changed = make(chan struct{})
}

// next is one job from q, or nil when none came within PullWait.
func (w *Worker) next(ctx context.Context, q *queue) (jetstream.Msg, error) {
	wait := w.PullWait
	if wait <= 0 {
		wait = 5 * time.Second
	}
	fctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	batch, err := q.cons.Fetch(1, jetstream.FetchContext(fctx))
	if err != nil {
		return nil, err
	}
	for msg := range batch.Messages() {
		return msg, nil
	}
	if err := batch.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
		return nil, err
	}
	return nil, ctx.Err()
}

// heartbeat tells the server the job is still being built, a third of
// the ack wait apart, until stop is called.
func heartbeat(msg jetstream.Msg, ackWait time.Duration) (stop func()) {
	every := ackWait / 3
	if every <= 0 {
		every = 10 * time.Second
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				msg.InProgress() // a lost heartbeat only risks a redelivery
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
