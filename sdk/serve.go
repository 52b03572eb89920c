package sdk

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	sigv1 "github.com/quarrylinux/quarry/sdk/internal/sigv1"
	"github.com/quarrylinux/quarry/sdk/internal/wire"
)

// Handshake is what host and plugin check before talking. The cookie
// keeps a plugin binary from being run by hand; it is not a secret. Serve
// answers it: only a plugin that serves the protocol without Serve needs
// it (and PluginName).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "QUARRY_SIG_PLUGIN",
	MagicCookieValue: "quarry-sig-7c1e2b9d",
}

// PluginName is the name the SIG service is dispensed under.
const PluginName = "sig"

// grpcPlugin is the go-plugin glue of the plugin's end: it serves; the
// host's end (a Client) is sdk/host's.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	name    string
	factory func() Plugin
}

func (p *grpcPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	sigv1.RegisterSIGServer(s, newServer(p.name, p.factory(), broker))
	return nil
}

func (p *grpcPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("package sdk serves plugins: a host's client is sdk/host's")
}

// sdk/host serves a plugin in process with this package's server.
func init() {
	wire.NewServer = func(sig string, factory any, broker *plugin.GRPCBroker) sigv1.SIGServer {
		return newServer(sig, factory.(func() Plugin)(), broker)
	}
	wire.SetLogLevel = func(l hclog.Level) { Logger().SetLevel(l) }
}

var (
	logOnce sync.Once
	logger  hclog.Logger
)

// Logger is the plugin's logger: hclog JSON on the process's stderr, which
// the host reads, re-levels and names after the SIG. Never log to stdout:
// it carries the handshake.
func Logger() hclog.Logger {
	logOnce.Do(func() {
		logger = hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: hclog.Trace})
	})
	return logger
}

// Option changes how Serve serves.
type Option func(*serveOptions)

type serveOptions struct {
	level hclog.Level
}

// WithLogLevel sets the lowest level the plugin logs at (default trace:
// the host decides what it shows).
func WithLogLevel(l hclog.Level) Option { return func(o *serveOptions) { o.level = l } }

// Serve runs a plugin until its host is done with it: it answers the
// handshake, serves the SIG protocol over gRPC with mutual TLS, and exits
// when the host dies.
//
// Run by hand, the binary answers --version, and --debug serves it for a
// debugger (dlv exec quarry-sig-NAME -- --debug): it prints the
// QUARRY_REATTACH_PLUGINS line that points quarry at it. Otherwise it
// says what it is and exits 2.
func Serve(name string, factory func() Plugin, opts ...Option) {
	o := serveOptions{level: hclog.Trace}
	for _, opt := range opts {
		opt(&o)
	}
	if os.Getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		os.Exit(byHand(name, factory, o, os.Args[1:], os.Stdout, os.Stderr))
	}
	log := Logger() // before Serve takes os.Stderr over
	log.SetLevel(o.level)
	go watchParent(log)
	plugin.Serve(serveConfig(name, factory, log))
}

// serveConfig is go-plugin's config for serving the plugin as SIG name,
// by hand (debug mode adds Test) or for a host.
func serveConfig(name string, factory func() Plugin, log hclog.Logger) *plugin.ServeConfig {
	return &plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: servedPlugins(name, factory),
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           log,
	}
}

func servedPlugins(name string, factory func() Plugin) map[int]plugin.PluginSet {
	sets := map[int]plugin.PluginSet{}
	for _, v := range wire.APIVersions {
		sets[int(v)] = plugin.PluginSet{PluginName: &grpcPlugin{name: name, factory: factory}}
	}
	return sets
}

// watchParent exits when the host dies and the plugin is handed to
// another parent, so an orphaned plugin never lingers.
func watchParent(log hclog.Logger) {
	parent := os.Getppid()
	for range time.Tick(250 * time.Millisecond) {
		if os.Getppid() != parent {
			log.Warn("the host died; exiting")
			os.Exit(2)
		}
	}
}
