// Package inproc serves a SIG plugin inside a test process over real gRPC
// (go-plugin's test connection), for sdktest and the conformance suite.
// It keeps go test quiet: go-plugin logs a debug line for every stream it
// closes, to stderr, with no way to configure it, and the plugin's own
// logger runs at trace. Both are quiet unless QUARRY_SDK_LOG names a level
// (QUARRY_SDK_LOG=debug go test -v ./... shows them).
package inproc

import (
	"io"
	"os"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/host"
	"github.com/quarrylinux/quarry/sdk/internal/wire"
)

// LogEnv is the environment variable that turns the in-process logs on.
const LogEnv = "QUARRY_SDK_LOG"

var mu sync.Mutex

// Serve serves factory's plugin as SIG sig and returns the host's client
// for it; the connection closes when the test ends.
func Serve(tb testing.TB, sig string, factory func() sdk.Plugin) (*host.Client, error) {
	tb.Helper()
	level := hclog.LevelFromString(os.Getenv(LogEnv))
	var conn *plugin.GRPCClient
	func() {
		// go-plugin's test connection makes its logger with hclog's
		// default output; it is read once, there.
		mu.Lock()
		defer mu.Unlock()
		saved := hclog.DefaultOutput
		if level == hclog.NoLevel || level > hclog.Debug {
			hclog.DefaultOutput = io.Discard
		}
		defer func() { hclog.DefaultOutput = saved }()
		conn, _ = plugin.TestPluginGRPCConn(tb, false, map[string]plugin.Plugin{sdk.PluginName: host.GRPCPlugin(sig, factory)})
	}()
	if level == hclog.NoLevel {
		level = hclog.Warn
	}
	if wire.SetLogLevel != nil {
		wire.SetLogLevel(level)
	}
	tb.Cleanup(func() { conn.Close() })
	raw, err := conn.Dispense(sdk.PluginName)
	if err != nil {
		return nil, err
	}
	return raw.(*host.Client), nil
}
