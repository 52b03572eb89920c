// Package wire is what the SDK's two ends share that SIG authors need not
// see: package sdk is the plugin's end, sdk/host the host's, and Go's
// internal rule lets only they import it. Each end converts the plain
// types it sends to the protocol's messages, and those it receives from
// them, itself (sdk/convert.go, sdk/host/convert.go): the conversions
// need sdk's types, which a package sdk imports cannot name.
package wire

import (
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	sigv1 "github.com/quarrylinux/quarry/sdk/internal/sigv1"
)

// APIVersions are the protocol majors both ends speak, oldest first: a
// plugin reports them, a host offers a plugin set for each.
var APIVersions = []uint32{1}

// NewServer is the plugin's end of the SIG service: it serves the plugin
// factory makes (factory is a func() sdk.Plugin) as SIG sig. Package sdk
// sets it when it is initialised, so that sdk/host can serve a plugin in
// the host's own process without sdk exporting its server.
var NewServer func(sig string, factory any, broker *plugin.GRPCBroker) sigv1.SIGServer

// SetLogLevel sets the level of the plugin's logger (sdk.Logger); package
// sdk sets it. A plugin served in a test process logs at warn unless asked
// (internal/inproc).
var SetLogLevel func(hclog.Level)

// ReattachEnv names the environment variable that points a host at
// plugins started by hand in debug mode: a JSON object of Reattach by SIG.
const ReattachEnv = "QUARRY_REATTACH_PLUGINS"

// Reattach is how a plugin in debug mode tells a host where it serves.
type Reattach struct {
	Protocol        string `json:"protocol"`
	ProtocolVersion int    `json:"protocol_version"`
	Pid             int    `json:"pid"`
	Test            bool   `json:"test"`
	Addr            struct {
		Network string `json:"network"`
		String  string `json:"string"`
	} `json:"addr"`
}
