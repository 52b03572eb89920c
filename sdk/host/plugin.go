package host

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/quarrylinux/quarry/sdk"
	sigv1 "github.com/quarrylinux/quarry/sdk/internal/sigv1"
	"github.com/quarrylinux/quarry/sdk/internal/wire"
)

// APIVersions are the protocol majors this host speaks, oldest first:
// those of the SDK it is built with.
var APIVersions = wire.APIVersions

// grpcPlugin is the go-plugin glue of the host's end: it dispenses a
// *Client and, given a factory, serves that plugin (in process).
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	sig     string
	factory func() sdk.Plugin
}

func (p *grpcPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	if p.factory == nil {
		return errors.New("a host's plugin set serves no plugin")
	}
	sigv1.RegisterSIGServer(s, wire.NewServer(p.sig, p.factory, broker))
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewClient(conn, broker), nil
}

// Plugins are the plugin sets a host offers, by API major: each
// dispenses a *Client under sdk.PluginName.
func Plugins() map[int]plugin.PluginSet {
	sets := map[int]plugin.PluginSet{}
	for _, v := range APIVersions {
		sets[int(v)] = plugin.PluginSet{sdk.PluginName: &grpcPlugin{}}
	}
	return sets
}

// GRPCPlugin is the go-plugin Plugin that serves factory's plugins as SIG
// sig and dispenses a *Client for them: a plugin served in the host's own
// process (sdk/sdktest uses it).
func GRPCPlugin(sig string, factory func() sdk.Plugin) plugin.Plugin {
	return &grpcPlugin{sig: sig, factory: factory}
}
