// Command stubborn ignores Stop: its Packages call runs to the end.
package main

import (
	"context"
	"time"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{ cfg struct{} }

func (p *p) Info() sdk.Info { return sdk.Info{Version: "1.0.0", Description: "ignores Stop"} }
func (p *p) Configure(ctx context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	return req.Decode(&p.cfg)
}
func (p *p) Repos(context.Context) ([]sdk.Repo, error) { return []sdk.Repo{{ID: "extras"}}, nil }
func (p *p) Packages(context.Context) ([]sdk.Package, error) {
	// Work that outlasts the suite's Stop bound (2s) and never looks at
	// its context.
	time.Sleep(2500 * time.Millisecond)
	spec := "Name: stubborn-tool\nVersion: 1\nRelease: 1\nSummary: x\nLicense: MIT\nBuildArch: noarch\n%description\nx\n%files\n"
	return []sdk.Package{{Name: "stubborn-tool", Repo: "extras", Spec: "stubborn-tool.spec", Files: []sdk.File{{Path: "stubborn-tool.spec", Data: []byte(spec)}}}}, nil
}

func main() { sdk.Serve("stubborn", func() sdk.Plugin { return &p{} }) }
