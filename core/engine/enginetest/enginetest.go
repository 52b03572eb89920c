// Package enginetest starts an embedded JetStream for tests, set up as
// engine.Setup sets it up.
package enginetest

import (
	"context"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/core/engine"
)

// Start starts an embedded server in a temporary folder, set up with o;
// it is closed when the test ends.
func Start(t testing.TB, o engine.Options) (*engine.Server, *engine.Engine) {
	t.Helper()
	srv, err := engine.Embedded(t.TempDir(), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	js, err := srv.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Setup(context.Background(), js, o)
	if err != nil {
		t.Fatal(err)
	}
	return srv, eng
}

// Dial is JetStream over a connection of its own, closed when the test
// ends (or before, by close: a worker that dies).
func Dial(t testing.TB, srv *engine.Server) (js jetstream.JetStream, close func()) {
	t.Helper()
	nc, err := srv.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err = jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js, nc.Close
}
