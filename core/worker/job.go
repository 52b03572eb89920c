package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/core/blobs"
	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/engine"
)

// handle builds one delivered job and settles its message: Ack once its
// result is recorded, Nak for another try after an infrastructure error,
// Term for a message that is no job or whose tries ran out.
func (w *Worker) handle(ctx context.Context, kv jetstream.KeyValue, q *queue, msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		w.Log.Error("a message without JetStream metadata, left alone", "subject", msg.Subject(), "error", err)
		return
	}
	log := w.Log.With("queue", q.name, "stream_seq", meta.Sequence.Stream, "delivery", meta.NumDelivered)
	env, err := engine.DecodeEnvelope(msg.Data())
	if err == nil && msg.Subject() != engine.Subject(engine.Queue(env.Job.Arch, env.Job.Env.Build)) {
		err = fmt.Errorf("job %s for %s was published on %s", env.Job.ID, env.Job.Arch, msg.Subject())
	}
	if err != nil {
		// Another delivery would not decode it either.
		log.Error("job message refused and terminated, not retried", "subject", msg.Subject(), "error", err)
		msg.TermWithReason("not a job message: " + err.Error())
		return
	}
	job := &env.Job
	log = log.With("job", job.ID, "key", env.Key, "round", env.Round)

	// A delivery of a job that is already settled (its worker died
	// between recording and acking) is only acked. An engine slow to
	// answer is asked again (the job kept alive meanwhile), rather than
	// the delivery handed back: each counts against MaxDeliver.
	var done engine.Done
	var failed engine.Failed
	stop := heartbeat(msg, q.ackWait)
	var ok bool
	err = retry(ctx, func() (err error) { ok, err = engine.Get(ctx, kv, engine.DoneKey(env.Key), &done); return err })
	if err != nil || ok {
		stop()
		w.settle(ctx, log, msg, err, "already built by "+done.Worker)
		return
	}
	err = retry(ctx, func() (err error) {
		ok, err = engine.Get(ctx, kv, engine.FailedKey(env.Key, env.Round), &failed)
		return err
	})
	stop()
	if err != nil || ok {
		w.settle(ctx, log, msg, err, "this round already failed")
		return
	}

	a := engine.Attempt{Worker: w.Name, Delivery: meta.NumDelivered, Start: time.Now().UTC()}
	attemptKey := engine.AttemptKey(env.Key, env.Round, meta.NumDelivered)
	// The attempt is recorded while the job builds, not before: a
	// write replicated and fsynced is a job's whole overhead, several
	// times over. Every later write of it waits for this one.
	started := make(chan struct{})
	first := a
	go func() {
		defer close(started)
		if err := engine.Put(ctx, kv, attemptKey, &first); err != nil {
			log.Warn("recording the attempt", "error", err)
		}
	}()
	log.Info("building")
	stop = heartbeat(msg, q.ackWait)
	rec, err := w.build(ctx, job)
	stop()
	<-started
	if ctx.Err() != nil {
		// The worker is stopping: hand the job back at once, rather than
		// after the ack wait (a worker that dies cannot).
		log.Info("stopped before the job finished: handed back")
		a.Err = "the worker " + w.Name + " stopped before the job finished"
		a.End = time.Now().UTC()
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		engine.Put(bg, kv, attemptKey, &a)
		msg.Nak()
		return
	}
	a.End = time.Now().UTC()
	var be *build.Error
	if err == nil {
		// The result and the attempt's end are written at once.
		a.Log = rec.Log
		recorded := make(chan struct{})
		go func() {
			defer close(recorded)
			if err := engine.Put(ctx, kv, attemptKey, &a); err != nil {
				log.Warn("recording the attempt", "error", err)
			}
		}()
		var created bool
		cerr := retry(ctx, func() (err error) {
			created, err = engine.Create(ctx, kv, engine.DoneKey(env.Key), &engine.Done{Worker: w.Name, Delivery: meta.NumDelivered, Record: *rec})
			return err
		})
		<-recorded
		if cerr == nil {
			if !created {
				log.Info("another delivery recorded its result first: ours is dropped")
			} else {
				log.Info("built", "outputs", len(rec.Outputs), "log", rec.Log)
			}
			w.ack(ctx, log, msg)
			return
		}
		err = fmt.Errorf("%s: recording the result: %w", job.ID, cerr)
	} else if errors.As(err, &be) {
		// The build itself failed: it would again, on any worker.
		a.Log, a.Err = be.Log, be.Msg
		if err := engine.Put(ctx, kv, attemptKey, &a); err != nil {
			log.Warn("recording the attempt", "error", err)
		}
		aerr := retry(ctx, func() error {
			attempts, err := engine.Attempts(ctx, kv, env.Key, env.Round)
			if err == nil {
				_, err = engine.Create(ctx, kv, engine.FailedKey(env.Key, env.Round), &engine.Failed{
					Round: env.Round, Build: true, Worker: w.Name, Msg: be.Msg, Log: be.Log, Attempts: attempts})
			}
			return err
		})
		if aerr == nil {
			log.Info("the build failed", "error", be.Msg, "log", be.Log)
			w.ack(ctx, log, msg)
			return
		}
		err = fmt.Errorf("%s: recording its failure: %w", job.ID, aerr)
	}
	// An infrastructure error: another delivery may do better, until
	// there is none left.
	a.Err = err.Error()
	if perr := engine.Put(ctx, kv, attemptKey, &a); perr != nil {
		log.Warn("recording the attempt", "error", perr)
	}
	if q.maxDeliver > 0 && meta.NumDelivered >= uint64(q.maxDeliver) {
		why := fmt.Sprintf("no delivery of %d built it", q.maxDeliver)
		if rerr := retry(ctx, func() error { _, err := engine.RecordExhausted(ctx, kv, env, why); return err }); rerr != nil {
			// The server's advisory makes a coordinator record it.
			log.Warn("recording the job's failure", "error", rerr)
			msg.Nak()
			return
		}
		log.Error("job failed on its last delivery", "error", err)
		msg.TermWithReason(why)
		return
	}
	log.Warn("job failed, to be delivered again", "error", err)
	if w.RetryDelay > 0 {
		msg.NakWithDelay(w.RetryDelay)
	} else {
		msg.Nak()
	}
}

// retry calls fn until it succeeds or fails for another reason than
// the engine's not answering, five times at most, waiting 15 s in all
// between them (each call has its own timeouts besides).
func retry(ctx context.Context, fn func() error) error {
	return engine.Retry(ctx, 5, 8*time.Second, nil, fn)
}

// settle acks a delivery whose job was settled already, or hands it
// back when the state could not be read.
func (w *Worker) settle(ctx context.Context, log hclog.Logger, msg jetstream.Msg, err error, why string) {
	if err != nil {
		log.Warn("reading the job's state", "error", err)
		msg.Nak()
		return
	}
	log.Info("delivered again but settled: acked", "why", why)
	w.ack(ctx, log, msg)
}

func (w *Worker) ack(ctx context.Context, log hclog.Logger, msg jetstream.Msg) {
	if err := msg.DoubleAck(ctx); err != nil {
		// The result is recorded: the next delivery only acks it.
		log.Warn("ack", "error", err)
	}
}

// build fetches the job's inputs and checks them, builds it, and uploads
// what it wrote. Its error is a *build.Error when the build failed, and
// an infrastructure error otherwise.
func (w *Worker) build(ctx context.Context, job *build.Job) (*build.Record, error) {
	for _, in := range append([]build.Input{job.SRPM}, job.Buildroot...) {
		if err := retry(ctx, func() error { return blobs.Fetch(ctx, w.Blobs, w.Store, in.SHA256) }); err != nil {
			return nil, fmt.Errorf("%s: input %s: %w", job.ID, in.Name, err)
		}
	}
	rec, err := w.Exec.Run(ctx, job, nil)
	var be *build.Error
	if errors.As(err, &be) {
		if be.Log != "" {
			if uerr := retry(ctx, func() error { return blobs.Upload(ctx, w.Store, w.Blobs, be.Log) }); uerr != nil {
				return nil, fmt.Errorf("%s: uploading the failed build's log: %w", job.ID, uerr)
			}
		}
		return nil, be
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", job.ID, err)
	}
	for _, d := range append([]string{rec.Log}, digests(rec.Outputs)...) {
		if err := retry(ctx, func() error { return blobs.Upload(ctx, w.Store, w.Blobs, d) }); err != nil {
			return nil, fmt.Errorf("%s: uploading: %w", job.ID, err)
		}
	}
	return rec, nil
}

func digests(outs []build.Output) []string {
	var d []string
	for _, o := range outs {
		d = append(d, o.SHA256)
	}
	return d
}
