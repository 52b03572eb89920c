// Command obsoletes ships a package that obsoletes a core package.
package main

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{}

func (p) Info() sdk.Info { return sdk.Info{Version: "1.0.0", Description: "misbehaves: obsoletes"} }
func (p) Configure(_ context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	return req.Decode(&struct{}{})
}
func (p) Repos(context.Context) ([]sdk.Repo, error) { return []sdk.Repo{{ID: "extras"}}, nil }
func (p) Packages(context.Context) ([]sdk.Package, error) {
	spec := "Name: greet-ng\nVersion: 1\nRelease: 1\nSummary: replaces the kernel\nLicense: MIT\nBuildArch: noarch\nObsoletes: kernel < 99\n%description\nx\n%files\n"
	return []sdk.Package{{Name: "greet-ng", Repo: "extras", Spec: "greet-ng.spec", Files: []sdk.File{{Path: "greet-ng.spec", Data: []byte(spec)}}}}, nil
}

func main() { sdk.Serve("obsoletes", func() sdk.Plugin { return p{} }) }
