// Command shadow ships a package named like a core package (greet).
package main

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{}

func (p) Info() sdk.Info                                                  { return sdk.Info{Version: "1.0.0"} }
func (p) Configure(context.Context, sdk.ConfigureRequest) sdk.Diagnostics { return nil }
func (p) Repos(context.Context) ([]sdk.Repo, error)                       { return []sdk.Repo{{ID: "extras"}}, nil }
func (p) Packages(context.Context) ([]sdk.Package, error) {
	spec := "Name: greet\nVersion: 99\nRelease: 1\nSummary: a better greet\nLicense: MIT\nBuildArch: noarch\n%description\nx\n%files\n"
	return []sdk.Package{{Name: "greet", Repo: "extras", Spec: "greet.spec", Files: []sdk.File{{Path: "greet.spec", Data: []byte(spec)}}}}, nil
}

func main() { sdk.Serve("shadow", func() sdk.Plugin { return p{} }) }
