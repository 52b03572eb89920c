// Package rawserve serves a hand-written SIG server, bypassing the SDK,
// for plugins that break the protocol on purpose.
package rawserve

import (
	"context"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/quarrylinux/quarry/sdk"
	sigv1 "github.com/quarrylinux/quarry/sdk/internal/sigv1"
)

type raw struct {
	plugin.NetRPCUnsupportedPlugin
	srv sigv1.SIGServer
}

func (r *raw) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	sigv1.RegisterSIGServer(s, r.srv)
	return nil
}

func (r *raw) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, nil
}

// Serve serves srv as protocol major version.
func Serve(version int, srv sigv1.SIGServer) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{version: {sdk.PluginName: &raw{srv: srv}}},
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           hclog.New(&hclog.LoggerOptions{JSONFormat: true}),
	})
}

// Info is a plausible GetPluginInfo answer.
func Info(sig string, version uint32, caps ...sigv1.Capability) *sigv1.GetPluginInfoResponse {
	return &sigv1.GetPluginInfoResponse{Sig: sig, PluginVersion: "1.0.0", SdkVersion: "raw", ApiVersions: []uint32{version}, Capabilities: caps}
}
