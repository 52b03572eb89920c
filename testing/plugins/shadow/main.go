// Command shadow ships a package named like a core package (kernel).
package main

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{}

func (p) Info() sdk.Info { return sdk.Info{Version: "1.0.0", Description: "misbehaves: shadow"} }
func (p) Configure(_ context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	return req.Decode(&struct{}{})
}
func (p) Repos(context.Context) ([]sdk.Repo, error) { return []sdk.Repo{{ID: "extras"}}, nil }
func (p) Packages(context.Context) ([]sdk.Package, error) {
	spec := "Name: kernel\nVersion: 99\nRelease: 1\nSummary: a better kernel\nLicense: MIT\nBuildArch: noarch\n%description\nx\n%files\n"
	return []sdk.Package{{Name: "kernel", Repo: "extras", Spec: "kernel.spec", Files: []sdk.File{{Path: "kernel.spec", Data: []byte(spec)}}}}, nil
}

func main() { sdk.Serve("shadow", func() sdk.Plugin { return p{} }) }
