// Command liar declares the packages capability but does not implement it.
package main

import (
	"context"
	"strings"

	sigv1 "github.com/quarrylinux/quarry/sdk/internal/sigv1"
	"github.com/quarrylinux/quarry/sdk/internal/testplugins/rawserve"
)

type srv struct{ sigv1.UnimplementedSIGServer }

func (srv) GetPluginInfo(context.Context, *sigv1.GetPluginInfoRequest) (*sigv1.GetPluginInfoResponse, error) {
	info := rawserve.Info("liar", 1, sigv1.Capability_CAPABILITY_REPOS, sigv1.Capability_CAPABILITY_PACKAGES)
	info.Description = "declares packages, serves none"
	return info, nil
}

func (srv) Configure(_ context.Context, req *sigv1.ConfigureRequest) (*sigv1.ConfigureResponse, error) {
	if c := string(req.ConfigJson); c != "" && c != "null" && c != "{}" && strings.Contains(c, "\"") {
		return &sigv1.ConfigureResponse{Diagnostics: []*sigv1.Diagnostic{{Severity: sigv1.Diagnostic_SEVERITY_ERROR, Path: "(top level)", Summary: "this SIG takes no config"}}}, nil
	}
	return &sigv1.ConfigureResponse{}, nil
}

func (srv) Repos(context.Context, *sigv1.ReposRequest) (*sigv1.ReposResponse, error) {
	return &sigv1.ReposResponse{Repos: []*sigv1.Repo{{Id: "extras"}}}, nil
}

func (srv) Stop(context.Context, *sigv1.StopRequest) (*sigv1.StopResponse, error) {
	return &sigv1.StopResponse{}, nil
}

func main() { rawserve.Serve(1, srv{}) }
