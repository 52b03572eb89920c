package engine

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/core/build"
)

// What coordinators and workers say to each other. A job's state lives
// in QUARRY_STATE under its key:
//
//	<key>.queued                 Queued: the round of the job that is queued
//	<key>.try.<round>.<delivery> Attempt: one delivery to a worker, as it went
//	<key>.done                   Done: the record, written once (Create)
//	<key>.failed.<round>         Failed: that round's failure, written once
//
// A round is one submission: a job that failed is queued again, as the
// next round, by the next Run that wants it (failures are not cached,
// as in a local build; its message id then names the round, since the
// first round's id is still within the duplicates window). A success
// holds for every round: a key names the output.

// Envelope is a job's message on its arch's subject.
type Envelope struct {
	Key   string    `json:"key"`
	Round int       `json:"round"`
	Job   build.Job `json:"job"`
}

// MsgID is the message id a job's round is published with: its key for
// the first round, so that the same job submitted twice is queued once.
func MsgID(key string, round int) string {
	if round <= 1 {
		return key
	}
	return key + "." + strconv.Itoa(round)
}

var keyPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// DecodeEnvelope reads a job's message, refusing one that is not a job
// this version of Quarry would have sent: unknown fields, a key that is
// not the job's, an arch that is no subject's.
func DecodeEnvelope(data []byte) (*Envelope, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var env Envelope
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("not a job message: %w", err)
	}
	if !keyPattern.MatchString(env.Key) || env.Key != env.Job.Key() {
		return nil, fmt.Errorf("job %q: the message's key %q is not the job's", env.Job.ID, env.Key)
	}
	if env.Round < 1 {
		return nil, fmt.Errorf("job %s: round %d", env.Job.ID, env.Round)
	}
	if err := CheckArch(env.Job.Arch); err != nil {
		return nil, fmt.Errorf("job %s: %w", env.Job.ID, err)
	}
	return &env, nil
}

// Queued is the round of a job that is queued.
type Queued struct {
	Round int       `json:"round"`
	ID    string    `json:"id"`
	Since time.Time `json:"since"`
}

// Attempt is one delivery of a job to a worker.
type Attempt struct {
	Worker   string    `json:"worker"`
	Delivery uint64    `json:"delivery"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end,omitzero"`
	// Log is the attempt's build log's sha256 in the blob store, if it
	// got as far as building.
	Log string `json:"log,omitempty"`
	// Err is why it failed; empty while it runs and when it built.
	Err string `json:"err,omitempty"`
}

func (a Attempt) String() string {
	s := fmt.Sprintf("delivery %d on worker %s", a.Delivery, a.Worker)
	if a.Log != "" {
		s += " (log " + a.Log + ")"
	}
	switch {
	case a.Err != "":
		return s + ": " + a.Err
	case a.End.IsZero():
		return s + ": never reported back (the worker died, hung or lost its connection)"
	}
	return s + ": built"
}

// Done is a job that built.
type Done struct {
	Worker   string       `json:"worker"`
	Delivery uint64       `json:"delivery"`
	Record   build.Record `json:"record"`
}

// Failed is a round that failed: its build failed (Build: a
// deterministic *build.Error on its worker, not retried), or every
// delivery did.
type Failed struct {
	Round    int       `json:"round"`
	Build    bool      `json:"build,omitempty"`
	Worker   string    `json:"worker,omitempty"`
	Msg      string    `json:"msg"`
	Log      string    `json:"log,omitempty"`
	Attempts []Attempt `json:"attempts"`
}

// The state keys of a job.
func QueuedKey(key string) string { return key + ".queued" }
func DoneKey(key string) string   { return key + ".done" }
func FailedKey(key string, round int) string {
	return key + ".failed." + strconv.Itoa(round)
}
func AttemptKey(key string, round int, delivery uint64) string {
	return fmt.Sprintf("%s.try.%d.%d", key, round, delivery)
}

// JobKeys is the filter of every state key of a job.
func JobKeys(key string) string { return key + ".>" }

// Put writes v under key, whatever was there.
func Put(ctx context.Context, kv jetstream.KeyValue, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := kv.Put(ctx, key, data); err != nil {
		return fmt.Errorf("state %s: %w", key, err)
	}
	return nil
}

// Create writes v under key unless something is there already: it
// reports whether it wrote. The compare-and-set is what makes a result
// recorded once, however many deliveries of the job finish.
func Create(ctx context.Context, kv jetstream.KeyValue, key string, v any) (bool, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return false, err
	}
	if _, err := kv.Create(ctx, key, data); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return false, nil
		}
		return false, fmt.Errorf("state %s: %w", key, err)
	}
	return true, nil
}

// Get reads key into v; it reports false when the key is not there.
func Get(ctx context.Context, kv jetstream.KeyValue, key string, v any) (bool, error) {
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("state %s: %w", key, err)
	}
	if err := json.Unmarshal(e.Value(), v); err != nil {
		return false, fmt.Errorf("state %s: %w", key, err)
	}
	return true, nil
}

// Attempts are a round's attempts, by delivery: the values a watch of
// them starts with (it ends its initial values with a nil entry).
func Attempts(ctx context.Context, kv jetstream.KeyValue, key string, round int) ([]Attempt, error) {
	w, err := kv.Watch(ctx, fmt.Sprintf("%s.try.%d.*", key, round), jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("attempts of %s: %w", key, err)
	}
	defer w.Stop()
	var out []Attempt
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("attempts of %s: the watch ended", key)
			}
			if e == nil {
				slices.SortFunc(out, func(a, b Attempt) int { return cmp.Compare(a.Delivery, b.Delivery) })
				return out, nil
			}
			var a Attempt
			if err := json.Unmarshal(e.Value(), &a); err != nil {
				return nil, fmt.Errorf("state %s: %w", e.Key(), err)
			}
			out = append(out, a)
		}
	}
}

// RecordExhausted records that env's round ran out of deliveries, with
// its attempts; whoever sees it first (the last worker, or a coordinator
// reading the server's advisory) writes it, once.
func RecordExhausted(ctx context.Context, kv jetstream.KeyValue, env *Envelope, why string) (bool, error) {
	attempts, err := Attempts(ctx, kv, env.Key, env.Round)
	if err != nil {
		return false, err
	}
	return Create(ctx, kv, FailedKey(env.Key, env.Round), &Failed{Round: env.Round, Msg: why, Attempts: attempts})
}

// Image is where a buildroot image is in the blob store, under
// ImageKey(its pin): the sha256 of the image's file (a rootfs tarball,
// whose tar stream's digest is the pin; or an OCI archive, whose
// manifest's digest for Arch is). The coordinator writes it; a worker
// without the image fetches the blob, checks its digest, and unpacks it
// only if its stream hashes to the job's pin. So the record is trusted
// for nothing: a wrong one costs a failed delivery, never a wrong root.
type Image struct {
	Blob string `json:"blob"`
	Size int64  `json:"size"`
	// Suffix says what the file is, as its name would: one of
	// ImageSuffixes (an OCI archive is a .tar).
	Suffix string `json:"suffix"`
	// Arch picks the image of an OCI index.
	Arch string `json:"arch"`
}

// ImageSuffixes are the kinds of image file a worker unpacks.
var ImageSuffixes = []string{".tar.zst", ".tar.gz", ".tgz", ".tar.xz", ".tar"}

// ImageKey is the state key of the image pinned as digest
// ("sha256:<hex>"): images.<hex>.
func ImageKey(digest string) string {
	hex, _ := strings.CutPrefix(digest, "sha256:")
	return "images." + hex
}
