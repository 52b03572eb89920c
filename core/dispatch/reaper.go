package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/core/engine"
)

// advisory is the part of the server's max-deliveries advisory the
// reaper reads.
type advisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// startReaper reads the advisories of jobs delivered MaxDeliver times.
// A worker that fails a job's last delivery records the failure itself;
// the advisory is for the one that died or hung on it, which cannot.
// The advisories are kept in a stream, so one sent while no coordinator
// ran is read by the next; any coordinator may read it, and what it
// writes is a Create.
func (e *Executor) startReaper(ctx context.Context) error {
	c, err := e.js.Consumer(ctx, engine.AdvisoriesStream, engine.ReaperConsumer)
	if err != nil {
		return fmt.Errorf("dispatch: consumer %s (engine.Setup makes it): %w", engine.ReaperConsumer, err)
	}
	jobs, err := e.js.Stream(ctx, engine.JobsStream)
	if err != nil {
		return fmt.Errorf("dispatch: stream %s: %w", engine.JobsStream, err)
	}
	e.reaper, err = c.Consume(func(msg jetstream.Msg) { e.reap(jobs, msg) },
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			e.log.Debug("reading advisories", "error", err)
		}))
	if err != nil {
		return fmt.Errorf("dispatch: reading advisories: %w", err)
	}
	return nil
}

func (e *Executor) reap(jobs jetstream.Stream, msg jetstream.Msg) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var adv advisory
	if err := json.Unmarshal(msg.Data(), &adv); err != nil || adv.Stream != engine.JobsStream {
		e.log.Error("an advisory that is not one of the jobs stream's, terminated", "subject", msg.Subject(), "error", err)
		msg.Term()
		return
	}
	l := e.log.With("stream_seq", adv.StreamSeq, "consumer", adv.Consumer, "deliveries", adv.Deliveries)
	raw, err := jobs.GetMsg(ctx, adv.StreamSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		msg.Ack() // settled already (its last worker terminated it)
		return
	}
	if err != nil {
		l.Warn("reading the job of an advisory", "error", err)
		msg.Nak()
		return
	}
	env, err := engine.DecodeEnvelope(raw.Data)
	if err != nil {
		l.Error("the job of an advisory does not decode: deleted", "error", err)
	} else {
		l = l.With("job", env.Job.ID, "round", env.Round)
		var d engine.Done
		built, err := engine.Get(ctx, e.kv, engine.DoneKey(env.Key), &d)
		if err == nil && !built {
			why := fmt.Sprintf("delivered %d times (the consumer's MaxDeliver), never built", adv.Deliveries)
			_, err = engine.RecordExhausted(ctx, e.kv, env, why)
		}
		if err != nil {
			l.Warn("recording a job whose deliveries ran out", "error", err)
			msg.Nak()
			return
		}
		l.Info("deliveries ran out", "built", built)
	}
	// It would sit in the work queue for good otherwise.
	if err := jobs.DeleteMsg(ctx, adv.StreamSeq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		l.Warn("deleting a job whose deliveries ran out", "error", err)
	}
	msg.Ack()
}
