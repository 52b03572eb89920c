// Package sdktest serves a SIG plugin inside a test process over a real
// gRPC connection, so a SIG lead's go test exercises the same wire as the
// host without building a binary.
package sdktest

import (
	"testing"

	"github.com/hashicorp/go-plugin"

	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/host"
)

// Client serves the plugin in process and returns the host's client for it.
func Client(t testing.TB, name string, factory func() sdk.Plugin) *host.Client {
	t.Helper()
	conn, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{sdk.PluginName: host.GRPCPlugin(name, factory)})
	t.Cleanup(func() { conn.Close() })
	raw, err := conn.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*host.Client)
}
