// Command nondeterministic puts the time into its spec: two runs differ.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{ cfg struct{} }

func (p *p) Info() sdk.Info {
	return sdk.Info{Version: "1.0.0", Description: "returns different sources each run"}
}
func (p *p) Configure(ctx context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	return req.Decode(&p.cfg)
}
func (p *p) Repos(context.Context) ([]sdk.Repo, error) { return []sdk.Repo{{ID: "extras"}}, nil }
func (p *p) Packages(context.Context) ([]sdk.Package, error) {
	spec := fmt.Sprintf("Name: nd-tool\nVersion: 1\nRelease: 1\nSummary: built at %d\nLicense: MIT\nBuildArch: noarch\n%%description\nx\n%%files\n", time.Now().UnixNano())
	return []sdk.Package{{Name: "nd-tool", Repo: "extras", Spec: "nd-tool.spec", Files: []sdk.File{{Path: "nd-tool.spec", Data: []byte(spec)}}}}, nil
}

func main() { sdk.Serve("nondeterministic", func() sdk.Plugin { return &p{} }) }
