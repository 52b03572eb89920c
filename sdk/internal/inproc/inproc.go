// Package inproc serves a SIG plugin inside a test process over real gRPC,
// for sdktest and the conformance suite: go-plugin's server in its test
// mode, in a goroutine, and a host's client reattached to it, as
// terraform-plugin-testing serves providers. Both ends get loggers of
// their own, so go test stays quiet with no global swapped: go-plugin's
// debug lines and the plugin's own logs below warn are shown only when
// QUARRY_SDK_LOG names a level (QUARRY_SDK_LOG=debug go test -v ./...).
package inproc

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/host"
	"github.com/quarrylinux/quarry/sdk/internal/wire"
)

// LogEnv is the environment variable that turns the in-process logs on.
const LogEnv = "QUARRY_SDK_LOG"

// Serve serves factory's plugin as SIG sig and returns the host's client
// for it; the server stops when the test ends.
func Serve(tb testing.TB, sig string, factory func() sdk.Plugin) (*host.Client, error) {
	tb.Helper()
	level := hclog.LevelFromString(os.Getenv(LogEnv))
	var out io.Writer = os.Stderr
	if level == hclog.NoLevel {
		level, out = hclog.Warn, io.Discard
	}
	if wire.SetLogLevel != nil {
		wire.SetLogLevel(level)
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "sdk.inproc", Output: out, Level: level})
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: sdk.Handshake,
		Plugins:         plugin.PluginSet{sdk.PluginName: host.GRPCPlugin(sig, factory)},
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger:          log.Named("plugin"),
		Test:            &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed},
	})
	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-closed:
		cancel()
		return nil, errors.New("the in-process plugin server ended before it served")
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          plugin.PluginSet{sdk.PluginName: host.GRPCPlugin(sig, nil)},
		Reattach:         rc,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           log.Named("host"),
	})
	tb.Cleanup(func() {
		client.Kill()
		cancel()
		<-closed
	})
	rpc, err := client.Client()
	if err != nil {
		return nil, err
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		return nil, err
	}
	return raw.(*host.Client), nil
}
