// Command good is a well-behaved test SIG: repositories, one package,
// a kickstart.
package main

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

type good struct {
	cfg struct {
		Greeting string `json:"greeting"`
	}
}

func (g *good) Info() sdk.Info {
	return sdk.Info{Version: "1.0.0", Description: "a well-behaved test SIG"}
}

func (g *good) Configure(ctx context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	sdk.Logger().Info("configured", "distribution", req.Distribution.Name)
	return req.Decode(&g.cfg)
}

func (g *good) Repos(ctx context.Context) ([]sdk.Repo, error) {
	return []sdk.Repo{{ID: "extras", Name: "Good extras", Description: "test packages"}}, nil
}

func (g *good) Packages(ctx context.Context) ([]sdk.Package, error) {
	spec := "Name: good-hello\nVersion: 1.0\nRelease: 1%{?dist}\nSummary: " + g.cfg.Greeting + "\nLicense: MIT\nBuildArch: noarch\n%description\nHello.\n%files\n"
	return []sdk.Package{{Name: "good-hello", Repo: "extras", Spec: "good-hello.spec", Files: []sdk.File{{Path: "good-hello.spec", Data: []byte(spec)}}}}, nil
}

func main() { sdk.Serve("good", func() sdk.Plugin { return &good{} }) }
