package dispatch_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/dispatch"
	"github.com/quarrylinux/quarry/core/dispatch/dispatchtest"
	"github.com/quarrylinux/quarry/core/engine"
	"github.com/quarrylinux/quarry/core/store"
)

func digest(data []byte) string { return store.Digest(data) }

func TestMain(m *testing.M) {
	// The fake workers' RPM, made once by rpmbuild before any test runs.
	if _, err := dispatchtest.RPM(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

var arches = []string{"x86_64", "aarch64", "ppc64le"}

func run(e *dispatch.Executor, job *build.Job) <-chan result {
	ch := make(chan result, 1)
	go func() {
		rec, err := e.Run(context.Background(), job, nil)
		ch <- result{rec, err}
	}()
	return ch
}

type result struct {
	rec *build.Record
	err error
}

// A job submitted twice, at once, is queued once and built once; both
// Runs get its record, with its outputs in the coordinator's store; a
// later Run reuses it.
func TestSubmittedTwiceBuiltOnce(t *testing.T) {
	c := dispatchtest.New(t, engine.Options{Arches: arches})
	e, st := c.Coordinator()
	job := dispatchtest.Job(t, st, "hello/x86_64", "x86_64")
	a, b := run(e, job), run(e, job)
	c.Worker("w1", "x86_64", nil)
	for _, ch := range []<-chan result{a, b} {
		r := <-ch
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.rec.Key != job.Key() || len(r.rec.Outputs) != 1 || !st.Has(r.rec.Outputs[0].SHA256) || !st.Has(r.rec.Log) {
			t.Errorf("record: %+v", r.rec)
		}
	}
	if _, err := e.Run(context.Background(), job, nil); err != nil {
		t.Fatal(err)
	}
	if runs := c.Runs(); len(runs) != 1 {
		t.Errorf("built %d times: %v", len(runs), runs)
	}
	s, _ := c.Eng.JS.Stream(context.Background(), engine.JobsStream)
	if info, _ := s.Info(context.Background()); info.State.LastSeq != 1 || info.State.Msgs != 0 {
		t.Errorf("stream: %d published, %d left; want 1 and 0", info.State.LastSeq, info.State.Msgs)
	}
}

// A worker that takes a job and dies has it delivered again after the
// ack wait, to another worker that builds it; both attempts are
// recorded.
func TestDeadWorkersJobIsRedelivered(t *testing.T) {
	c := dispatchtest.New(t, engine.Options{Arches: arches, AckWait: time.Second, MaxDeliver: 3})
	e, st := c.Coordinator()
	job := dispatchtest.Job(t, st, "hello/aarch64", "aarch64")
	hang := func(ctx context.Context, _ *build.Job) error { <-ctx.Done(); return ctx.Err() }
	dying := c.Worker("dying", "aarch64", hang)
	ch := run(e, job)
	if r := <-c.Started; r.Worker != "dying" {
		t.Fatalf("first run on %s", r.Worker)
	}
	dying.Kill()
	<-dying.Done
	c.Worker("alive", "aarch64", nil)
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	attempts, err := engine.Attempts(context.Background(), c.Eng.State, job.Key(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 2 || attempts[0].Worker != "dying" || !attempts[0].End.IsZero() ||
		attempts[1].Worker != "alive" || attempts[1].Delivery != 2 || attempts[1].Err != "" {
		t.Errorf("attempts: %+v", attempts)
	}
}

// A job that fails for an infrastructure reason on every delivery stops
// after MaxDeliver, reported with each attempt's worker and error.
func TestInfrastructureErrorStopsAfterMaxDeliver(t *testing.T) {
	c := dispatchtest.New(t, engine.Options{Arches: arches, MaxDeliver: 3})
	e, st := c.Coordinator()
	job := dispatchtest.Job(t, st, "hello/x86_64", "x86_64")
	broken := func(context.Context, *build.Job) error { return errors.New("disk full") }
	c.Worker("w1", "x86_64", broken)
	c.Worker("w2", "x86_64", broken)
	_, err := e.Run(context.Background(), job, nil)
	var ex *dispatch.ExhaustedError
	if !errors.As(err, &ex) {
		t.Fatalf("got %v, want an ExhaustedError", err)
	}
	if len(ex.Attempts) != 3 || len(c.Runs()) != 3 {
		t.Fatalf("%d attempts, %d runs; want 3: %v", len(ex.Attempts), len(c.Runs()), err)
	}
	for i, a := range ex.Attempts {
		if a.Delivery != uint64(i+1) || (a.Worker != "w1" && a.Worker != "w2") || !strings.Contains(a.Err, "disk full") {
			t.Errorf("attempt %d: %+v", i, a)
		}
	}
	if !strings.Contains(err.Error(), "delivery 3 on worker w") || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("the error does not list the attempts: %v", err)
	}
}

// A worker that dies on the job's last delivery cannot report it: the
// server's advisory, read by the coordinator, does.
func TestDeliveriesRunOutWithTheWorkerGone(t *testing.T) {
	c := dispatchtest.New(t, engine.Options{Arches: arches, AckWait: time.Second, MaxDeliver: 1})
	e, st := c.Coordinator()
	job := dispatchtest.Job(t, st, "hello/ppc64le", "ppc64le")
	hang := func(ctx context.Context, _ *build.Job) error { <-ctx.Done(); return ctx.Err() }
	w := c.Worker("dying", "ppc64le", hang)
	ch := run(e, job)
	<-c.Started
	w.Kill()
	r := <-ch
	var ex *dispatch.ExhaustedError
	if !errors.As(r.err, &ex) || len(ex.Attempts) != 1 || ex.Attempts[0].Worker != "dying" ||
		!strings.Contains(r.err.Error(), "never reported back") || !strings.Contains(r.err.Error(), "MaxDeliver") {
		t.Fatalf("got %v", r.err)
	}
	// (The reaper then deletes the message from the stream, where it
	// would stay: that is housekeeping, after the failure is recorded.)
	cons, _ := c.Eng.JS.Consumer(context.Background(), engine.JobsStream, engine.Consumer("ppc64le"))
	if info, _ := cons.Info(context.Background()); info.NumPending != 0 || info.NumAckPending != 0 {
		t.Errorf("the job is still to be delivered: %d pending, %d unacked", info.NumPending, info.NumAckPending)
	}
}

// A build that fails as builds do is reported at once, not retried,
// with its log checked and kept; the next Run builds it again.
func TestBuildErrorReportedOnce(t *testing.T) {
	c := dispatchtest.New(t, engine.Options{Arches: arches, MaxDeliver: 3})
	e, st := c.Coordinator()
	job := dispatchtest.Job(t, st, "hello/noarch", "noarch")
	var w *dispatchtest.Worker
	var runs atomic.Int32
	ready := make(chan struct{})
	failsOnce := func(_ context.Context, j *build.Job) error {
		<-ready
		if runs.Add(1) > 1 {
			return nil
		}
		log := dispatchtest.Log(w.Fake.Store, "error: the reason it fails\n")
		return &build.Error{Job: j.ID, Msg: "rpmbuild failed", Tail: "made up by the worker", Log: log}
	}
	w = c.Worker("w1", "x86_64", failsOnce)
	close(ready)
	_, err := e.Run(context.Background(), job, nil)
	var be *build.Error
	if !errors.As(err, &be) || be.Log == "" || !st.Has(be.Log) || !strings.Contains(be.Tail, "the reason it fails") ||
		!strings.Contains(be.Msg, "on worker w1") {
		t.Fatalf("got %#v", err)
	}
	if runs := c.Runs(); len(runs) != 1 {
		t.Errorf("built %d times, want 1", len(runs))
	}
	if _, err := e.Run(context.Background(), job, nil); err != nil {
		t.Errorf("the next round: %v", err)
	}
}

// A worker's result is refused when a blob it names has other content,
// or its record is not its RPM's; the refused result is never reused,
// and the next Run builds the job again.
func TestTamperedResultsAreRefused(t *testing.T) {
	for name, c := range map[string]struct {
		tamper func(c *dispatchtest.Cluster, w *dispatchtest.Worker)
		want   string
	}{
		"blob of other content": {func(c *dispatchtest.Cluster, w *dispatchtest.Worker) {
			rpm, _ := dispatchtest.RPM()
			// The name of the real output, other bytes: the worker's
			// upload finds the name there and leaves it.
			c.Eng.Objects.PutBytes(context.Background(), digest(rpm), []byte("not the rpm"))
		}, "hashes to"},
		"name that is not its header's": {func(c *dispatchtest.Cluster, w *dispatchtest.Worker) {
			w.Fake.Output = func(o *build.Output) { o.Name = "glibc" }
		}, "the record says glibc"},
		"arch that is not its header's": {func(c *dispatchtest.Cluster, w *dispatchtest.Worker) {
			w.Fake.Output = func(o *build.Output) { o.Arch = "x86_64" }
		}, "its header hello noarch"},
	} {
		t.Run(name, func(t *testing.T) {
			cl := dispatchtest.New(t, engine.Options{Arches: arches})
			e, st := cl.Coordinator()
			job := dispatchtest.Job(t, st, "hello/x86_64", "x86_64")
			w := cl.Worker("liar", "x86_64", nil)
			c.tamper(cl, w)
			_, err := e.Run(context.Background(), job, nil)
			if err == nil || !strings.Contains(err.Error(), "from worker liar is refused") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if _, err := cl.Eng.State.Get(context.Background(), engine.DoneKey(job.Key())); err == nil {
				t.Error("the refused result is still there to be reused")
			}
			w.Stop()
			<-w.Done
			// No one cleans up by hand: the coordinator deleted a blob
			// whose content was not its name's, so the honest upload
			// of the real one is not skipped.
			cl.Worker("honest", "x86_64", nil)
			rec, err := e.Run(context.Background(), job, nil)
			if err != nil {
				t.Fatalf("the next Run: %v", err)
			}
			if runs := cl.Runs(); len(runs) != 2 || runs[1].Worker != "honest" || rec.Outputs[0].Name != "hello" {
				t.Errorf("runs %v, record %+v", runs, rec)
			}
		})
	}
}

// A coordinator that stops mid-run (its Run cancelled, returning at
// once) and starts again, a new Executor over the same server, gets the
// job's result without a rebuild.
func TestRestartedCoordinatorReusesTheResult(t *testing.T) {
	c := dispatchtest.New(t, engine.Options{Arches: arches})
	e1, st := c.Coordinator()
	job := dispatchtest.Job(t, st, "hello/x86_64", "x86_64")
	release := make(chan struct{})
	c.Worker("w1", "x86_64", func(ctx context.Context, _ *build.Job) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { _, err := e1.Run(ctx, job, nil); ch <- err }()
	<-c.Started
	cancel()
	if err := <-ch; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled Run: %v", err)
	}
	e1.Close()

	e2, st2 := c.Coordinator()
	dispatchtest.Job(t, st2, "hello/x86_64", "x86_64") // its SRPM, in the new store
	ch2 := run(e2, job)                                // waits on the round queued before
	close(release)
	r := <-ch2
	if r.err != nil {
		t.Fatal(r.err)
	}
	if runs := c.Runs(); len(runs) != 1 {
		t.Errorf("built %d times, want 1", len(runs))
	}
	e3, st3 := c.Coordinator()
	dispatchtest.Job(t, st3, "hello/x86_64", "x86_64")
	if rec, err := e3.Run(context.Background(), job, nil); err != nil || !st3.Has(rec.Outputs[0].SHA256) {
		t.Fatalf("a third coordinator: %v", err)
	}
	if runs := c.Runs(); len(runs) != 1 {
		t.Errorf("built %d times, want 1", len(runs))
	}
}

// A job of an arch with no queue fails at once rather than wait forever.
func TestNoQueueForTheArch(t *testing.T) {
	c := dispatchtest.New(t, engine.Options{Arches: arches})
	e, st := c.Coordinator()
	_, err := e.Run(context.Background(), dispatchtest.Job(t, st, "hello/riscv64", "riscv64"), nil)
	if err == nil || !strings.Contains(err.Error(), "no queue for riscv64") {
		t.Errorf("got %v", err)
	}
}

// A failure recorded for a round before the Run that queues it knew its
// number (written ahead by anyone who can write the bucket, or by a
// worker faster than the Run) is read, not waited on: the watch only
// reports what is written after it. The worker acks that round as
// failed, so nothing else would ever come.
func TestFailureWrittenAheadIsRead(t *testing.T) {
	c := dispatchtest.New(t, engine.Options{Arches: arches})
	e, st := c.Coordinator()
	job := dispatchtest.Job(t, st, "hello/x86_64", "x86_64")
	if _, err := engine.Create(context.Background(), c.Eng.State, engine.FailedKey(job.Key(), 1), &engine.Failed{Round: 1, Msg: "written ahead"}); err != nil {
		t.Fatal(err)
	}
	c.Worker("w1", "x86_64", nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := e.Run(ctx, job, nil)
	if err == nil || !strings.Contains(err.Error(), "written ahead") {
		t.Errorf("a round failed before its Run queued it: %v, want its failure", err)
	}
}
