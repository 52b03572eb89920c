// Command casename ships packages named like core packages in another
// case: the example's Banner, any Enterprise Linux's Bash.
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
	var out []sdk.Package
	for _, n := range []string{"Banner", "Bash"} {
		spec := "Name: " + n + "\nVersion: 99\nRelease: 1\nSummary: louder\nLicense: MIT\nBuildArch: noarch\n%description\nx\n%files\n"
		out = append(out, sdk.Package{Name: n, Repo: "extras", Spec: n + ".spec", Files: []sdk.File{{Path: n + ".spec", Data: []byte(spec)}}})
	}
	return out, nil
}

func main() { sdk.Serve("casename", func() sdk.Plugin { return &p{} }) }
