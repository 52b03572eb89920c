// Command garbage streams a file of a package it never announced.
package main

import (
	"context"

	sigv1 "github.com/quarrylinux/quarry/sdk/internal/sigv1"
	"github.com/quarrylinux/quarry/sdk/internal/testplugins/rawserve"
)

type srv struct{ sigv1.UnimplementedSIGServer }

func (srv) GetPluginInfo(context.Context, *sigv1.GetPluginInfoRequest) (*sigv1.GetPluginInfoResponse, error) {
	return rawserve.Info("garbage", 1, sigv1.Capability_CAPABILITY_PACKAGES), nil
}

func (srv) Configure(context.Context, *sigv1.ConfigureRequest) (*sigv1.ConfigureResponse, error) {
	return &sigv1.ConfigureResponse{}, nil
}

func (srv) Packages(_ *sigv1.PackagesRequest, s sigv1.SIG_PackagesServer) error {
	return s.Send(&sigv1.PackagesResponse{Item: &sigv1.PackagesResponse_File{File: &sigv1.FileChunk{Package: "ghost", Path: "x.spec", Data: []byte("?"), Eof: true}}})
}

func main() { rawserve.Serve(1, srv{}) }
