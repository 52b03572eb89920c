// Package host is the host's end of the SIG protocol, with the plain types
// of package sdk: a Client that calls a plugin, the go-plugin plugin sets
// a host offers (Plugins), and a plugin served inside the host's own
// process (GRPCPlugin: sdk/sdktest and the conformance suite use it).
// Every reply is untrusted: a stream is bounded (Client.MaxBytes) and a
// reply that breaks the protocol's rules is ErrGarbage. Quarry's plugin
// host (package plugins) is built on it; SIG authors need only sdk.
package host

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/quarrylinux/quarry/sdk"
	sigv1 "github.com/quarrylinux/quarry/sdk/internal/sigv1"
)

// ErrUnsupported is a call the plugin does not implement (gRPC
// Unimplemented): a capability it lacks, or a call newer than its SDK.
var ErrUnsupported = errors.New("not supported by this plugin")

// ErrGarbage is a reply that breaks the protocol's rules.
var ErrGarbage = errors.New("the plugin's reply breaks the protocol")

// DefaultMaxBytes bounds what one Packages, Kernels or BuildInstaller
// stream may carry.
const DefaultMaxBytes = 1 << 30

// Client is the host's end of a plugin, with the same plain types.
type Client struct {
	c      sigv1.SIGClient
	broker *plugin.GRPCBroker
	// MaxBytes bounds one stream (default DefaultMaxBytes).
	MaxBytes int64
}

// NewClient wraps a connection to a plugin; broker may be nil (then the
// plugin is offered no Core service).
func NewClient(conn grpc.ClientConnInterface, broker *plugin.GRPCBroker) *Client {
	return &Client{c: sigv1.NewSIGClient(conn), broker: broker}
}

func (c *Client) max() int64 {
	if c.MaxBytes > 0 {
		return c.MaxBytes
	}
	return DefaultMaxBytes
}

// wireErr makes Unimplemented ErrUnsupported and keeps the plugin's
// message otherwise.
func wireErr(call string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	switch {
	case ok && st.Code() == codes.Unimplemented:
		return fmt.Errorf("%s: %w", call, ErrUnsupported)
	case ok:
		return fmt.Errorf("%s: %s (%s)", call, st.Message(), st.Code())
	}
	return fmt.Errorf("%s: %w", call, err)
}

// Info asks the plugin who it is.
func (c *Client) Info(ctx context.Context, hostVersion string) (PluginInfo, error) {
	resp, err := c.c.GetPluginInfo(ctx, &sigv1.GetPluginInfoRequest{HostVersion: hostVersion, ApiVersions: APIVersions})
	if err != nil {
		return PluginInfo{}, wireErr("GetPluginInfo", err)
	}
	info := PluginInfo{SIG: resp.Sig, Version: resp.PluginVersion, SDKVersion: resp.SdkVersion, APIVersions: resp.ApiVersions, Description: resp.Description}
	for _, cp := range resp.Capabilities {
		info.Capabilities = append(info.Capabilities, capFromWire(cp))
	}
	return info, nil
}

// Configure hands the plugin its config; with req.Core set, the host
// serves it to the plugin for the plugin's lifetime.
func (c *Client) Configure(ctx context.Context, req sdk.ConfigureRequest) (sdk.Diagnostics, error) {
	w := &sigv1.ConfigureRequest{ConfigJson: req.Config, Distribution: distToWire(req.Distribution)}
	if req.Core != nil && c.broker != nil {
		id := c.broker.NextId()
		go c.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
			s := grpc.NewServer(opts...)
			sigv1.RegisterCoreServer(s, &coreServer{core: req.Core})
			return s
		})
		w.CoreBrokerId = id
	}
	resp, err := c.c.Configure(ctx, w)
	if err != nil {
		return nil, wireErr("Configure", err)
	}
	return diagsFromWire(resp.Diagnostics), nil
}

// Repos lists the SIG's repositories.
func (c *Client) Repos(ctx context.Context) ([]sdk.Repo, error) {
	resp, err := c.c.Repos(ctx, &sigv1.ReposRequest{})
	if err != nil {
		return nil, wireErr("Repos", err)
	}
	var out []sdk.Repo
	for _, r := range resp.Repos {
		out = append(out, repoFromWire(r))
	}
	return out, nil
}

// Packages receives the SIG's source packages.
func (c *Client) Packages(ctx context.Context) ([]sdk.Package, error) {
	stream, err := c.c.Packages(ctx, &sigv1.PackagesRequest{})
	if err != nil {
		return nil, wireErr("Packages", err)
	}
	a := newAssembler(c.max())
	if err := receive("Packages", stream, a.packagesMsg); err != nil {
		return nil, err
	}
	pkgs, err := a.finish()
	if err != nil {
		return nil, fmt.Errorf("Packages: %w", err)
	}
	return pkgs, nil
}

// Kernels receives the SIG's kernel flavours.
func (c *Client) Kernels(ctx context.Context) ([]sdk.Kernel, error) {
	stream, err := c.c.Kernels(ctx, &sigv1.KernelsRequest{})
	if err != nil {
		return nil, wireErr("Kernels", err)
	}
	k := &kernelAssembler{assembler: newAssembler(c.max())}
	if err := receive("Kernels", stream, k.msg); err != nil {
		return nil, err
	}
	kernels, err := k.finish()
	if err != nil {
		return nil, fmt.Errorf("Kernels: %w", err)
	}
	return kernels, nil
}

// Installers lists the SIG's kickstarts and image definitions.
func (c *Client) Installers(ctx context.Context) ([]sdk.Installer, error) {
	resp, err := c.c.Installers(ctx, &sigv1.InstallersRequest{})
	if err != nil {
		return nil, wireErr("Installers", err)
	}
	var out []sdk.Installer
	for _, in := range resp.Installers {
		out = append(out, installerFromWire(in))
	}
	return out, nil
}

// BuildInstaller has the plugin build an installer's artifact and writes
// its bytes to w. The returned Artifact has no Path.
func (c *Client) BuildInstaller(ctx context.Context, req sdk.BuildRequest, w io.Writer) (sdk.Artifact, error) {
	stream, err := c.c.BuildInstaller(ctx, &sigv1.BuildInstallerRequest{Name: req.Name, ReposDir: req.ReposDir, ScratchDir: req.ScratchDir})
	if err != nil {
		return sdk.Artifact{}, wireErr("BuildInstaller", err)
	}
	a := &artifactAssembler{max: c.max(), w: w}
	if err := receive("BuildInstaller", stream, a.msg); err != nil {
		return sdk.Artifact{}, err
	}
	art, err := a.finish()
	if err != nil {
		return sdk.Artifact{}, fmt.Errorf("BuildInstaller: %w", err)
	}
	return art, nil
}

// receive reads a stream to its end, handing each message to each. A
// transport error is the call's (wireErr); an error from each, the
// message's fault, is named after the call.
func receive[T any](call string, stream grpc.ServerStreamingClient[T], each func(*T) error) error {
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return wireErr(call, err)
		}
		if err := each(msg); err != nil {
			return fmt.Errorf("%s: %w", call, err)
		}
	}
}

// Stop asks the plugin to cancel what it has in flight.
func (c *Client) Stop(ctx context.Context) error {
	_, err := c.c.Stop(ctx, &sigv1.StopRequest{})
	return wireErr("Stop", err)
}
