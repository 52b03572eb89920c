// Command dotdot ships a source file whose path climbs out of its package.
package main

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{}

func (p) Info() sdk.Info { return sdk.Info{Version: "1.0.0", Description: "misbehaves: dotdot"} }
func (p) Configure(_ context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	return req.Decode(&struct{}{})
}
func (p) Repos(context.Context) ([]sdk.Repo, error) { return []sdk.Repo{{ID: "extras"}}, nil }
func (p) Packages(context.Context) ([]sdk.Package, error) {
	spec := "Name: dotdot-tool\nVersion: 1\nRelease: 1\nSummary: x\nLicense: MIT\nBuildArch: noarch\n%description\nx\n%files\n"
	return []sdk.Package{{Name: "dotdot-tool", Repo: "extras", Spec: "dotdot-tool.spec", Files: []sdk.File{
		{Path: "dotdot-tool.spec", Data: []byte(spec)},
		{Path: "../../../etc/cron.d/evil", Data: []byte("* * * * * root true\n")},
	}}}, nil
}

func main() { sdk.Serve("dotdot", func() sdk.Plugin { return p{} }) }
