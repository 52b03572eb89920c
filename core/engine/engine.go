// Package engine is the JetStream that Quarry's distributed builds run
// on: an embedded server (in process, no port) or a cluster's, the names
// of everything Quarry keeps there, and Setup, which makes them.
//
// The design, and why:
//
//   - Jobs are messages on QUARRY_JOBS, a work-queue stream (a message is
//     removed once a worker acks it), one subject per arch
//     (quarry.jobs.<arch>) with one durable pull consumer each, noarch on
//     its own that x86_64 and aarch64 workers also pull (a work queue's
//     consumers may not overlap, so noarch cannot be part of theirs).
//     The message id (Nats-Msg-Id) is the job's key: within the
//     duplicates window (24h) a job published twice, by two coordinators
//     or by one that restarted, is queued once.
//   - Ack wait and MaxDeliver bound a job's attempts: a worker heartbeats
//     (InProgress) while it builds, so a worker that dies or hangs has its
//     job redelivered after the ack wait; the server publishes an advisory
//     when a job has been delivered MaxDeliver times, which
//     QUARRY_ADVISORIES keeps durably so that a coordinator that was down
//     then still learns it.
//   - The scheduling state is in the KV bucket QUARRY_STATE, by job key
//     (see protocol.go): which round of a job is queued, each attempt, and
//     the result, written with Create (compare-and-set on the key), so a
//     result is recorded once whoever delivers it twice, and a coordinator
//     that restarts finds where it was.
//   - Blobs (inputs, outputs, logs) are in the object store QUARRY_BLOBS,
//     named by sha256 (core/blobs), and nothing read from it is trusted
//     before it is hashed again.
//   - Everything is file storage, replicated Options.Replicas times (1
//     embedded, 3 in a cluster); the embedded server syncs every write
//     (SyncAlways), because NATS's default lazy fsync can lose writes it
//     already acknowledged when the machine loses power.
package engine

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The names of everything Quarry keeps in JetStream.
const (
	JobsStream       = "QUARRY_JOBS"
	JobsSubjects     = "quarry.jobs.>"
	AdvisoriesStream = "QUARRY_ADVISORIES"
	// MaxDeliveriesSubject is where the server reports a job delivered
	// MaxDeliver times (the advisory subject, for the jobs stream).
	MaxDeliveriesSubject = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + JobsStream + ".*"
	// ReaperConsumer reads those advisories, for the coordinators.
	ReaperConsumer = "reaper"
	StateBucket    = "QUARRY_STATE"
	BlobsBucket    = "QUARRY_BLOBS"
	// Noarch is the arch whose jobs any x86_64 or aarch64 worker builds.
	Noarch = "noarch"
	// DuplicatesWindow is how long a job's message id is remembered: a
	// job published twice within it is queued once.
	DuplicatesWindow = 24 * time.Hour
)

// Queue is the queue a job of arch waits in: its arch's; for a noarch
// job that builds on an arch's buildroot (build, toolchain.Env.Build:
// the coordinator's own arch), that arch's noarch queue, noarch_<build>,
// since a worker without that buildroot cannot build it; noarch's own
// for one that names none.
func Queue(arch, build string) string {
	if arch == Noarch && build != "" {
		return Noarch + "_" + build
	}
	return arch
}

// Subject is the subject a queue's jobs are published on.
func Subject(queue string) string { return "quarry.jobs." + queue }

// Consumer is the durable consumer a queue's workers pull from.
func Consumer(queue string) string { return "jobs-" + queue }

// PullsNoarch says whether workers of arch also build the noarch jobs
// that name no build arch.
func PullsNoarch(arch string) bool { return arch == "x86_64" || arch == "aarch64" }

// Consumers are the consumers a worker of arch pulls, its own first,
// then the noarch jobs that build on its arch.
func Consumers(arch string) []string {
	out := []string{Consumer(arch), Consumer(Queue(Noarch, arch))}
	if PullsNoarch(arch) {
		out = append(out, Consumer(Noarch))
	}
	return out
}

// Queues are the queues of arches: each arch's, its noarch one, and
// noarch's own.
func Queues(arches []string) []string {
	qs := []string{Noarch}
	for _, a := range arches {
		if a != Noarch {
			qs = append(qs, a, Queue(Noarch, a))
		}
	}
	slices.Sort(qs)
	return slices.Compact(qs)
}

// An arch is one token of a subject and of a consumer's name.
var archPattern = regexp.MustCompile(`^[a-z0-9_]+$`)

// CheckArch refuses an arch that cannot be a subject token.
func CheckArch(arch string) error {
	if !archPattern.MatchString(arch) {
		return fmt.Errorf("arch %q: not a plain lower-case name ([a-z0-9_]+)", arch)
	}
	return nil
}

// Options are how the jobs are kept and retried.
type Options struct {
	// Replicas of every stream, bucket and consumer: 1 embedded, 3 in a
	// cluster (0 means 1).
	Replicas int
	// AckWait is how long a job may go without its worker's heartbeat
	// before it is delivered again (0: one minute).
	AckWait time.Duration
	// MaxDeliver is how many times a job is delivered before it fails
	// (0: 3). A deterministic build failure fails on the first.
	MaxDeliver int
	// Arches get a consumer each; noarch always has one.
	Arches []string
}

func (o Options) withDefaults() Options {
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.AckWait <= 0 {
		o.AckWait = time.Minute
	}
	if o.MaxDeliver <= 0 {
		o.MaxDeliver = 3
	}
	return o
}

// Engine is what Quarry uses in JetStream, looked up or made.
type Engine struct {
	JS      jetstream.JetStream
	State   jetstream.KeyValue
	Objects jetstream.ObjectStore
}

// Setup makes (or updates to o) the jobs stream and its consumers, the
// advisories stream and its reaper, the state bucket and the blob store.
// Running it again with the same options changes nothing.
func Setup(ctx context.Context, js jetstream.JetStream, o Options) (*Engine, error) {
	o = o.withDefaults()
	for _, a := range o.Arches {
		if err := CheckArch(a); err != nil {
			return nil, fmt.Errorf("engine setup: %w", err)
		}
	}
	queues := Queues(o.Arches)
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        JobsStream,
		Description: "Quarry's build jobs, one subject per arch",
		Subjects:    []string{JobsSubjects},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		Duplicates:  DuplicatesWindow,
	}); err != nil {
		return nil, fmt.Errorf("engine setup: stream %s: %w", JobsStream, err)
	}
	for _, a := range queues {
		if _, err := js.CreateOrUpdateConsumer(ctx, JobsStream, jetstream.ConsumerConfig{
			Durable:       Consumer(a),
			Description:   "the jobs of queue " + a,
			FilterSubject: Subject(a),
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       o.AckWait,
			MaxDeliver:    o.MaxDeliver,
			// Every worker's slots may hold a job at once.
			MaxAckPending: -1,
			Replicas:      o.Replicas,
		}); err != nil {
			return nil, fmt.Errorf("engine setup: consumer %s: %w", Consumer(a), err)
		}
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        AdvisoriesStream,
		Description: "jobs delivered MaxDeliver times, kept until a coordinator records their failure",
		Subjects:    []string{MaxDeliveriesSubject},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
	}); err != nil {
		return nil, fmt.Errorf("engine setup: stream %s: %w", AdvisoriesStream, err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, AdvisoriesStream, jetstream.ConsumerConfig{
		Durable:   ReaperConsumer,
		AckPolicy: jetstream.AckExplicitPolicy,
		AckWait:   30 * time.Second,
		Replicas:  o.Replicas,
	}); err != nil {
		return nil, fmt.Errorf("engine setup: consumer %s: %w", ReaperConsumer, err)
	}
	// The bucket and the store are made once, not updated: an update
	// turns their direct gets on again (nats.go's default), and a
	// process binding before leaderReads would read from followers for
	// good. (Their replicas are the first Setup's.)
	if _, err := js.KeyValue(ctx, StateBucket); errors.Is(err, jetstream.ErrBucketNotFound) {
		_, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      StateBucket,
			Description: "Quarry's jobs by key: the round queued, each attempt, the result",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    o.Replicas,
		})
		if err != nil && !errors.Is(err, jetstream.ErrBucketExists) {
			return nil, fmt.Errorf("engine setup: bucket %s: %w", StateBucket, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("engine setup: bucket %s: %w", StateBucket, err)
	}
	if _, err := js.ObjectStore(ctx, BlobsBucket); errors.Is(err, jetstream.ErrBucketNotFound) {
		_, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket:      BlobsBucket,
			Description: "Quarry's blobs by sha256: jobs' inputs, outputs and logs",
			Storage:     jetstream.FileStorage,
			Replicas:    o.Replicas,
		})
		if err != nil && !errors.Is(err, jetstream.ErrBucketExists) {
			return nil, fmt.Errorf("engine setup: object store %s: %w", BlobsBucket, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("engine setup: object store %s: %w", BlobsBucket, err)
	}
	// Open turns their direct gets off before it binds them.
	eng, err := Open(ctx, js)
	if err != nil {
		return nil, fmt.Errorf("engine setup: %w", err)
	}
	return eng, nil
}

// leaderReads turns a bucket's direct gets off. nats.go makes buckets
// with them on, and then any replica answers a read, a follower behind
// the leader included: a coordinator told of a result may read its log's
// blob from a node that does not hold it yet (seen: "not in the blob
// store" for a log the worker had uploaded before recording the result).
// Reads from the leader see every write acknowledged before them.
func leaderReads(ctx context.Context, js jetstream.JetStream, name string) error {
	st, err := js.Stream(ctx, name)
	if err != nil {
		return fmt.Errorf("stream %s: %w", name, err)
	}
	cfg := st.CachedInfo().Config
	if !cfg.AllowDirect {
		return nil
	}
	cfg.AllowDirect = false
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("stream %s: reads from its leader only: %w", name, err)
	}
	return nil
}

// Open looks up what Setup made: what a worker does. It changes one
// thing first, if Setup has not yet: the buckets' reads go to their
// leader (leaderReads). A handle keeps the direct gets its stream had
// when it was bound, and one bound while they were on (a worker opening
// the engine between the coordinator's making a bucket and turning them
// off) read from followers, then from no one once the nodes it had read
// from were gone: "no responders" for good after a node died.
func Open(ctx context.Context, js jetstream.JetStream) (*Engine, error) {
	for _, name := range []string{"KV_" + StateBucket, "OBJ_" + BlobsBucket} {
		if err := leaderReads(ctx, js, name); err != nil {
			if errors.Is(err, jetstream.ErrStreamNotFound) {
				return nil, notSetUp(name, err)
			}
			return nil, err
		}
	}
	kv, err := js.KeyValue(ctx, StateBucket)
	if err != nil {
		return nil, notSetUp(StateBucket, err)
	}
	obj, err := js.ObjectStore(ctx, BlobsBucket)
	if err != nil {
		return nil, notSetUp(BlobsBucket, err)
	}
	return &Engine{JS: js, State: kv, Objects: obj}, nil
}

func notSetUp(name string, err error) error {
	if errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("%s is not set up (engine.Setup makes it): %w", name, err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// Unreachable says whether err is the engine's not answering at all:
// no server, or none for the request (a stream without its leader).
// Unlike Transient it leaves out timeouts, which a slow or stalled
// transfer also gives.
func Unreachable(err error) bool {
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrNoServers)
}

// Transient says whether err is the engine's not answering (a leader
// being elected, a node restarting, a busy cluster) rather than a
// refusal: the request may be tried again.
func Transient(err error) bool {
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrNoServers)
}
