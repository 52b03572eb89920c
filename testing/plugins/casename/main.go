// Command casename ships a package named like a core package in another case: Banner.
package main

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{ distro string }

func (*p) Info() sdk.Info { return sdk.Info{Version: "1.0.0", Description: "misbehaves: casename"} }
func (p *p) Configure(_ context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	p.distro = req.Distribution.Name
	return req.Decode(&struct{}{})
}
func (*p) Repos(context.Context) ([]sdk.Repo, error) { return []sdk.Repo{{ID: "extras"}}, nil }
func (p *p) Packages(context.Context) ([]sdk.Package, error) {
	return []sdk.Package{{Name: "Banner", Repo: "extras", Spec: "Banner.spec", Files: []sdk.File{{Path: "Banner.spec", Data: []byte("Name: Banner\nVersion: 99\nRelease: 1\nSummary: banner, louder\nLicense: MIT\nBuildArch: noarch\n%description\nx\n%files\n")}}}}, nil
}

func main() { sdk.Serve("casename", func() sdk.Plugin { return &p{} }) }
