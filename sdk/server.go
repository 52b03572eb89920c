package sdk

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sigv1 "github.com/quarrylinux/quarry/sdk/internal/sigv1"
	"github.com/quarrylinux/quarry/sdk/internal/wire"
)

// chunkSize is how much of a file one stream message carries (gRPC's
// default message limit is 4 MiB).
const chunkSize = 1 << 20

// server serves a Plugin over the wire.
type server struct {
	sigv1.UnimplementedSIGServer
	name   string
	impl   Plugin
	broker *plugin.GRPCBroker

	mu     sync.Mutex
	stop   context.Context // cancelled by Stop
	cancel context.CancelFunc
}

func newServer(name string, impl Plugin, broker *plugin.GRPCBroker) *server {
	s := &server{name: name, impl: impl, broker: broker}
	s.stop, s.cancel = context.WithCancel(context.Background())
	return s
}

// call is a call's context: done when the host gives up or calls Stop.
func (s *server) call(ctx context.Context) (context.Context, context.CancelFunc) {
	s.mu.Lock()
	stop := s.stop
	s.mu.Unlock()
	c, cancel := context.WithCancel(ctx)
	undo := context.AfterFunc(stop, cancel)
	return c, func() { undo(); cancel() }
}

// capabilities are what impl implements, one per provider interface.
func capabilities(impl Plugin) []sigv1.Capability {
	var caps []sigv1.Capability
	if _, ok := impl.(RepoProvider); ok {
		caps = append(caps, sigv1.Capability_CAPABILITY_REPOS)
	}
	if _, ok := impl.(PackageProvider); ok {
		caps = append(caps, sigv1.Capability_CAPABILITY_PACKAGES)
	}
	if _, ok := impl.(KernelProvider); ok {
		caps = append(caps, sigv1.Capability_CAPABILITY_KERNELS)
	}
	if _, ok := impl.(InstallerProvider); ok {
		caps = append(caps, sigv1.Capability_CAPABILITY_INSTALLERS)
	}
	if _, ok := impl.(InstallerBuilder); ok {
		caps = append(caps, sigv1.Capability_CAPABILITY_BUILD_INSTALLER)
	}
	return caps
}

func (s *server) GetPluginInfo(ctx context.Context, _ *sigv1.GetPluginInfoRequest) (*sigv1.GetPluginInfoResponse, error) {
	info := s.impl.Info()
	return &sigv1.GetPluginInfoResponse{Sig: s.name, PluginVersion: info.Version, SdkVersion: Version, ApiVersions: wire.APIVersions,
		Capabilities: capabilities(s.impl), Description: info.Description}, nil
}

func (s *server) Configure(ctx context.Context, req *sigv1.ConfigureRequest) (*sigv1.ConfigureResponse, error) {
	ctx, done := s.call(ctx)
	defer done()
	creq := ConfigureRequest{Config: req.ConfigJson, Distribution: distFromWire(req.Distribution)}
	if req.CoreBrokerId != 0 && s.broker != nil {
		conn, err := s.broker.Dial(req.CoreBrokerId)
		if err != nil {
			return nil, status.Errorf(codes.Unavailable, "the host's core service: %v", err)
		}
		creq.Core = &coreClient{c: sigv1.NewCoreClient(conn)}
	}
	return &sigv1.ConfigureResponse{Diagnostics: diagsToWire(s.impl.Configure(ctx, creq))}, nil
}

func (s *server) Repos(ctx context.Context, _ *sigv1.ReposRequest) (*sigv1.ReposResponse, error) {
	p, ok := s.impl.(RepoProvider)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "this plugin ships no repositories")
	}
	ctx, done := s.call(ctx)
	defer done()
	repos, err := p.Repos(ctx)
	if err != nil {
		return nil, fail(ctx, err)
	}
	resp := &sigv1.ReposResponse{}
	for _, r := range repos {
		resp.Repos = append(resp.Repos, repoToWire(r))
	}
	return resp, nil
}

func (s *server) Packages(_ *sigv1.PackagesRequest, stream sigv1.SIG_PackagesServer) error {
	p, ok := s.impl.(PackageProvider)
	if !ok {
		return status.Error(codes.Unimplemented, "this plugin ships no packages")
	}
	ctx, done := s.call(stream.Context())
	defer done()
	pkgs, err := p.Packages(ctx)
	if err != nil {
		return fail(ctx, err)
	}
	for _, pkg := range pkgs {
		if err := stream.Send(&sigv1.PackagesResponse{Item: &sigv1.PackagesResponse_Package{Package: packageHeader(pkg)}}); err != nil {
			return err
		}
		err := sendFiles(ctx, pkg, func(c *sigv1.FileChunk) error {
			return stream.Send(&sigv1.PackagesResponse{Item: &sigv1.PackagesResponse_File{File: c}})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *server) Kernels(_ *sigv1.KernelsRequest, stream sigv1.SIG_KernelsServer) error {
	p, ok := s.impl.(KernelProvider)
	if !ok {
		return status.Error(codes.Unimplemented, "this plugin ships no kernels")
	}
	ctx, done := s.call(stream.Context())
	defer done()
	kernels, err := p.Kernels(ctx)
	if err != nil {
		return fail(ctx, err)
	}
	for _, k := range kernels {
		w := &sigv1.Kernel{Flavour: k.Flavour, Package: packageHeader(k.Package), Configs: k.Configs}
		if err := stream.Send(&sigv1.KernelsResponse{Item: &sigv1.KernelsResponse_Kernel{Kernel: w}}); err != nil {
			return err
		}
		err := sendFiles(ctx, k.Package, func(c *sigv1.FileChunk) error {
			return stream.Send(&sigv1.KernelsResponse{Item: &sigv1.KernelsResponse_File{File: c}})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// sendFiles streams a package's files in chunks; every file ends with an
// eof chunk, so an empty file is one empty chunk.
func sendFiles(ctx context.Context, p Package, send func(*sigv1.FileChunk) error) error {
	for _, f := range p.Files {
		data := f.Data
		first := true
		for {
			if ctx.Err() != nil {
				return fail(ctx, ctx.Err())
			}
			n := min(len(data), chunkSize)
			c := &sigv1.FileChunk{Package: p.Name, Path: f.Path, Mode: uint32(f.Mode.Perm()), Data: data[:n], Eof: n == len(data)}
			if first {
				c.Size, first = int64(len(f.Data)), false
			}
			if err := send(c); err != nil {
				return err
			}
			data = data[n:]
			if c.Eof {
				break
			}
		}
	}
	return nil
}

func (s *server) Installers(ctx context.Context, _ *sigv1.InstallersRequest) (*sigv1.InstallersResponse, error) {
	p, ok := s.impl.(InstallerProvider)
	if !ok {
		return nil, status.Error(codes.Unimplemented, "this plugin ships no installers")
	}
	ctx, done := s.call(ctx)
	defer done()
	ins, err := p.Installers(ctx)
	if err != nil {
		return nil, fail(ctx, err)
	}
	resp := &sigv1.InstallersResponse{}
	for _, in := range ins {
		resp.Installers = append(resp.Installers, installerToWire(in))
	}
	return resp, nil
}

func (s *server) BuildInstaller(req *sigv1.BuildInstallerRequest, stream sigv1.SIG_BuildInstallerServer) error {
	p, ok := s.impl.(InstallerBuilder)
	if !ok {
		return status.Error(codes.Unimplemented, "this plugin builds no installers")
	}
	ctx, done := s.call(stream.Context())
	defer done()
	art, err := p.BuildInstaller(ctx, BuildRequest{Name: req.Name, ReposDir: req.ReposDir, ScratchDir: req.ScratchDir})
	if err != nil {
		return fail(ctx, err)
	}
	f, err := os.Open(art.Path)
	if err != nil {
		return status.Errorf(codes.Internal, "artifact %s: %v", art.Name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return status.Errorf(codes.Internal, "artifact %s: %v", art.Name, err)
	}
	header := &sigv1.Artifact{Name: art.Name, MediaType: art.MediaType, Size: st.Size(), Packages: art.Packages}
	if err := stream.Send(&sigv1.BuildInstallerResponse{Item: &sigv1.BuildInstallerResponse_Artifact{Artifact: header}}); err != nil {
		return err
	}
	buf := make([]byte, chunkSize)
	for {
		n, err := f.Read(buf)
		eof := errors.Is(err, io.EOF)
		if err != nil && !eof {
			return status.Errorf(codes.Internal, "artifact %s: %v", art.Name, err)
		}
		c := &sigv1.FileChunk{Path: art.Name, Data: buf[:n], Eof: eof}
		if err := stream.Send(&sigv1.BuildInstallerResponse{Item: &sigv1.BuildInstallerResponse_Chunk{Chunk: c}}); err != nil {
			return err
		}
		if eof {
			return nil
		}
	}
}

func (s *server) Stop(context.Context, *sigv1.StopRequest) (*sigv1.StopResponse, error) {
	s.mu.Lock()
	s.cancel()
	s.stop, s.cancel = context.WithCancel(context.Background())
	s.mu.Unlock()
	return &sigv1.StopResponse{}, nil
}

// fail turns a provider's error into a status the host can read.
func fail(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return status.Error(codes.Canceled, "stopped: "+err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}

// coreClient is the plugin's view of the host's core service.
type coreClient struct{ c sigv1.CoreClient }

func (c *coreClient) Packages(ctx context.Context, names ...string) ([]CorePackage, error) {
	resp, err := c.c.CorePackages(ctx, &sigv1.CorePackagesRequest{Names: names})
	if err != nil {
		return nil, err
	}
	return corePackagesFromWire(resp.Packages), nil
}

func (c *coreClient) Repos(ctx context.Context) ([]CoreRepo, error) {
	resp, err := c.c.CoreRepos(ctx, &sigv1.CoreReposRequest{})
	if err != nil {
		return nil, err
	}
	return coreReposFromWire(resp.Repos), nil
}
