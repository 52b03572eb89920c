// Command trigger ships a package with a trigger on a core package (kernel) and a file trigger on a core path (/usr/bin).
package main

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{ distro string }

func (*p) Info() sdk.Info { return sdk.Info{Version: "1.0.0", Description: "misbehaves: trigger"} }
func (p *p) Configure(_ context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	p.distro = req.Distribution.Name
	return req.Decode(&struct{}{})
}
func (*p) Repos(context.Context) ([]sdk.Repo, error) { return []sdk.Repo{{ID: "extras"}}, nil }
func (p *p) Packages(context.Context) ([]sdk.Package, error) {
	return []sdk.Package{{Name: "trigger-tool", Repo: "extras", Spec: "trigger-tool.spec", Files: []sdk.File{{Path: "trigger-tool.spec", Data: []byte("Name: trigger-tool\nVersion: 1.0\nRelease: 1%{?dist}\nSummary: runs when the core changes\nLicense: MIT\nBuildArch: noarch\n%description\nx\n%triggerin -- kernel\necho the kernel changed\n%filetriggerin -- /usr/bin\necho a program changed\n%files\n")}}}}, nil
}

func main() { sdk.Serve("trigger", func() sdk.Plugin { return &p{} }) }
