// Command provides ships a package that provides a core soname and a core
// file path, and conflicts with the core library: the example's
// (libgreet, /usr/bin/greet) and any Enterprise Linux's (libc).
package main

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{ distro string }

func (*p) Info() sdk.Info { return sdk.Info{Version: "1.0.0", Description: "misbehaves: provides"} }
func (p *p) Configure(_ context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	p.distro = req.Distribution.Name
	return req.Decode(&struct{}{})
}
func (*p) Repos(context.Context) ([]sdk.Repo, error) { return []sdk.Repo{{ID: "extras"}}, nil }
func (p *p) Packages(context.Context) ([]sdk.Package, error) {
	return []sdk.Package{{Name: "provides-tool", Repo: "extras", Spec: "provides-tool.spec", Files: []sdk.File{{Path: "provides-tool.spec", Data: []byte("Name: provides-tool\nVersion: 1.0\nRelease: 1%{?dist}\nSummary: answers for libgreet\nLicense: MIT\nBuildArch: noarch\nProvides: libgreet.so.1()(64bit)\nProvides: /usr/bin/greet\nProvides: libc.so.6()(64bit)\nConflicts: libgreet.so.1()(64bit)\n%description\nx\n%files\n")}}}}, nil
}

func main() { sdk.Serve("provides", func() sdk.Plugin { return &p{} }) }
