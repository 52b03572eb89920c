package host

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/quarrylinux/quarry/sdk"
	sigv1 "github.com/quarrylinux/quarry/sdk/internal/sigv1"
)

// coreServer answers a plugin's questions about the core, on the host.
type coreServer struct {
	sigv1.UnimplementedCoreServer
	core sdk.Core
}

func (c *coreServer) CorePackages(ctx context.Context, req *sigv1.CorePackagesRequest) (*sigv1.CorePackagesResponse, error) {
	ps, err := c.core.Packages(ctx, req.Names...)
	if err != nil {
		return nil, status.Error(codes.Unknown, err.Error())
	}
	return &sigv1.CorePackagesResponse{Packages: corePackagesToWire(ps)}, nil
}

func (c *coreServer) CoreRepos(ctx context.Context, _ *sigv1.CoreReposRequest) (*sigv1.CoreReposResponse, error) {
	rs, err := c.core.Repos(ctx)
	if err != nil {
		return nil, status.Error(codes.Unknown, err.Error())
	}
	return &sigv1.CoreReposResponse{Repos: coreReposToWire(rs)}, nil
}
