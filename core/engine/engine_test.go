package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/core/engine"
	"github.com/quarrylinux/quarry/core/engine/enginetest"
)

var opts = engine.Options{AckWait: 5 * time.Second, MaxDeliver: 2, Arches: []string{"x86_64", "aarch64"}}

// Setup makes the stream, a consumer per arch and noarch's, the bucket
// and the object store, durable and as configured; again, it changes
// nothing.
func TestSetup(t *testing.T) {
	ctx := context.Background()
	_, eng := enginetest.Start(t, opts)
	if _, err := engine.Setup(ctx, eng.JS, opts); err != nil {
		t.Fatalf("Setup again: %v", err)
	}
	s, err := eng.JS.Stream(ctx, engine.JobsStream)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"KV_" + engine.StateBucket, "OBJ_" + engine.BlobsBucket} {
		b, err := eng.JS.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if c := b.CachedInfo().Config; c.AllowDirect || c.Storage != jetstream.FileStorage {
			t.Errorf("%s: direct gets %v (a follower behind its leader would answer reads), storage %v", name, c.AllowDirect, c.Storage)
		}
	}
	cfg := s.CachedInfo().Config
	if cfg.Retention != jetstream.WorkQueuePolicy || cfg.Storage != jetstream.FileStorage || cfg.Duplicates != engine.DuplicatesWindow {
		t.Errorf("stream: %+v", cfg)
	}
	for _, a := range []string{"x86_64", "aarch64", "noarch"} {
		c, err := eng.JS.Consumer(ctx, engine.JobsStream, engine.Consumer(a))
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		cc := c.CachedInfo().Config
		if cc.FilterSubject != engine.Subject(a) || cc.AckWait != opts.AckWait || cc.MaxDeliver != opts.MaxDeliver {
			t.Errorf("%s consumer: %+v", a, cc)
		}
	}
	if _, err := engine.Open(ctx, eng.JS); err != nil {
		t.Errorf("Open: %v", err)
	}
	if _, err := engine.Setup(ctx, eng.JS, engine.Options{Arches: []string{"x86.64"}}); err == nil || !strings.Contains(err.Error(), "x86.64") {
		t.Errorf("an arch that is no subject token: %v", err)
	}
}

// A job published twice with its key as message id is queued once.
func TestSameJobQueuedOnce(t *testing.T) {
	ctx := context.Background()
	_, eng := enginetest.Start(t, opts)
	for range 2 {
		if _, err := eng.JS.Publish(ctx, engine.Subject("x86_64"), []byte("job"), jetstream.WithMsgID(engine.MsgID("k", 1))); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := eng.JS.Stream(ctx, engine.JobsStream)
	if info, _ := s.Info(ctx); info.State.Msgs != 1 {
		t.Errorf("%d messages queued, want 1", info.State.Msgs)
	}
	if engine.MsgID("k", 1) != "k" || engine.MsgID("k", 2) == "k" {
		t.Error("the first round's id is the key, the next ones' are not")
	}
}

// The embedded server keeps what it acknowledged in its folder, synced:
// a server started again over it has the jobs and the state.
func TestEmbeddedKeepsItsState(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv, err := engine.Embedded(dir, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	js, _ := srv.JetStream()
	eng, err := engine.Setup(ctx, js, opts)
	if err != nil {
		t.Fatal(err)
	}
	js.Publish(ctx, engine.Subject("noarch"), []byte("job"), jetstream.WithMsgID("k"))
	if _, err := eng.State.Put(ctx, "k.done", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	srv.Close()

	srv, err = engine.Embedded(dir, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	js, _ = srv.JetStream()
	eng, err = engine.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.State.Get(ctx, "k.done"); err != nil {
		t.Errorf("the state after a restart: %v", err)
	}
	s, _ := js.Stream(ctx, engine.JobsStream)
	if info, _ := s.Info(ctx); info.State.Msgs != 1 {
		t.Errorf("%d jobs queued after a restart, want 1", info.State.Msgs)
	}
}

// Bad input: a jobs stream made by something else, with settings Setup
// cannot change, is refused naming the stream; an engine URL that does
// not answer is refused naming the URL.
func TestSetupRefuses(t *testing.T) {
	ctx := context.Background()
	srv, err := engine.Embedded(t.TempDir(), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	js, _ := srv.JetStream()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: engine.JobsStream, Subjects: []string{"quarry.jobs.>"}, Retention: jetstream.LimitsPolicy}); err != nil {
		t.Fatal(err)
	}
	_, err = engine.Setup(ctx, js, opts)
	if err == nil || !strings.Contains(err.Error(), "stream "+engine.JobsStream) || !strings.Contains(err.Error(), "retention") {
		t.Errorf("a jobs stream of other settings: %v", err)
	}
	if _, err := engine.Open(ctx, js); err == nil {
		t.Error("Open found an engine that was never set up")
	}

	url := "nats://127.0.0.1:1"
	if _, err := engine.Connect(url, nil); err == nil || !strings.Contains(err.Error(), url) {
		t.Errorf("a URL that does not answer: %v", err)
	}
}
