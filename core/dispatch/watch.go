package dispatch

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/core/engine"
)

// watcher is the Executor's one watch of the jobs' results, which every
// Run waits on. A watch is a consumer on the server: one per Run would
// be 100,000 of them for 100,000 queued jobs.
type watcher struct {
	kv  jetstream.KeyValue
	log hclog.Logger

	mu    sync.Mutex
	waits map[string]map[*waiter]bool // by job key

	cancel context.CancelFunc
	done   chan struct{}
}

// waiter is one Run's view of its job: what the watch showed of it.
type waiter struct {
	key  string
	wake chan struct{} // something changed (capacity 1)

	mu      sync.Mutex
	done    *engine.Done
	doneRev uint64
	failed  map[int]*engine.Failed
	resync  bool // the watch restarted: read the state again
}

func startWatcher(kv jetstream.KeyValue, log hclog.Logger) *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{kv: kv, log: log, waits: map[string]map[*waiter]bool{}, cancel: cancel, done: make(chan struct{})}
	go w.run(ctx)
	return w
}

func (w *watcher) close() {
	w.cancel()
	<-w.done
}

// add registers a waiter for key: from now on no change of its result
// is missed, so its Run reads the state after this.
func (w *watcher) add(key string) *waiter {
	wt := &waiter{key: key, wake: make(chan struct{}, 1), failed: map[int]*engine.Failed{}}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.waits[key] == nil {
		w.waits[key] = map[*waiter]bool{}
	}
	w.waits[key][wt] = true
	return wt
}

func (w *watcher) remove(wt *waiter) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.waits[wt.key], wt)
	if len(w.waits[wt.key]) == 0 {
		delete(w.waits, wt.key)
	}
}

// run watches results and failures as they are written, and starts
// again when the watch ends (its consumer lost with a server), telling
// every waiter to read its state again: what changed meanwhile.
func (w *watcher) run(ctx context.Context) {
	defer close(w.done)
	for failures := 0; ctx.Err() == nil; {
		kw, err := w.kv.WatchFiltered(ctx, []string{"*.done", "*.failed.*"}, jetstream.UpdatesOnly(), jetstream.IgnoreDeletes())
		if err == nil {
			failures = 0
			w.all(func(wt *waiter) { wt.resync = true })
			w.consume(ctx, kw)
			kw.Stop()
			continue
		}
		failures++
		w.log.Warn("watching the jobs' results: trying again", "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(min(failures, 10)) * 500 * time.Millisecond):
		}
	}
}

func (w *watcher) consume(ctx context.Context, kw jetstream.KeyWatcher) {
	for {
		select {
		case <-ctx.Done():
			return
		case ent, ok := <-kw.Updates():
			if !ok {
				return
			}
			if ent != nil {
				w.apply(ent)
			}
		}
	}
}

// apply hands a result or failure to its job's waiters.
func (w *watcher) apply(ent jetstream.KeyValueEntry) {
	key, rest, _ := strings.Cut(ent.Key(), ".")
	w.mu.Lock()
	var waits []*waiter
	for wt := range w.waits[key] {
		waits = append(waits, wt)
	}
	w.mu.Unlock()
	if len(waits) == 0 {
		return
	}
	var done *engine.Done
	var failed *engine.Failed
	if rest == "done" {
		done = new(engine.Done)
		if err := json.Unmarshal(ent.Value(), done); err != nil {
			w.log.Warn("unreadable result, ignored", "key", ent.Key(), "error", err)
			return
		}
	} else {
		failed = new(engine.Failed)
		if err := json.Unmarshal(ent.Value(), failed); err != nil {
			w.log.Warn("unreadable failure, ignored", "key", ent.Key(), "error", err)
			return
		}
	}
	for _, wt := range waits {
		wt.mu.Lock()
		if done != nil {
			wt.done, wt.doneRev = done, ent.Revision()
		} else {
			wt.failed[failed.Round] = failed
		}
		wt.mu.Unlock()
		wt.signal()
	}
}

func (w *watcher) all(fn func(*waiter)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ws := range w.waits {
		for wt := range ws {
			wt.mu.Lock()
			fn(wt)
			wt.mu.Unlock()
			wt.signal()
		}
	}
}

func (wt *waiter) signal() {
	select {
	case wt.wake <- struct{}{}:
	default:
	}
}

// read reads the job's result, and round's failure when round > 0, from
// the bucket: what the watch would have shown before the waiter was
// added, or while it was restarting.
func (wt *waiter) read(ctx context.Context, kv jetstream.KeyValue, round int) error {
	ent, err := kv.Get(ctx, engine.DoneKey(wt.key))
	var done *engine.Done
	switch {
	case err == nil:
		done = new(engine.Done)
		if json.Unmarshal(ent.Value(), done) != nil {
			done = nil // unreadable: as the watch would, ignored
		}
	case !isNotFound(err):
		return err
	}
	var failed engine.Failed
	hasFailed := false
	if round > 0 {
		if hasFailed, err = engine.Get(ctx, kv, engine.FailedKey(wt.key, round), &failed); err != nil {
			return err
		}
	}
	wt.mu.Lock()
	defer wt.mu.Unlock()
	if done != nil {
		wt.done, wt.doneRev = done, ent.Revision()
	}
	if hasFailed {
		wt.failed[round] = &failed
	}
	return nil
}

// result is the result the waiter knows of, leaving resync alone.
func (wt *waiter) result() (*engine.Done, uint64) {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	return wt.done, wt.doneRev
}

// state is what the waiter knows of round: the result, or the round's
// failure, and whether it must read again first.
func (wt *waiter) state(round int) (*engine.Done, uint64, *engine.Failed, bool) {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	resync := wt.resync
	wt.resync = false
	return wt.done, wt.doneRev, wt.failed[round], resync
}
