// Package sdktest serves a SIG plugin inside a test process over a real
// gRPC connection, so a SIG lead's go test exercises the same wire as the
// host without building a binary. It is quiet: go-plugin's logs and the
// plugin's own below warn are shown only when QUARRY_SDK_LOG names a level
// (QUARRY_SDK_LOG=debug go test -v).
package sdktest

import (
	"testing"

	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/host"
	"github.com/quarrylinux/quarry/sdk/internal/inproc"
)

// Client serves the plugin in process and returns the host's client for it.
func Client(t testing.TB, name string, factory func() sdk.Plugin) *host.Client {
	t.Helper()
	c, err := inproc.Serve(t, name, factory)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
