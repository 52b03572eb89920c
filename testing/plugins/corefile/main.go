// Command corefile ships a package that owns files core packages own: the
// example's /usr/bin/greet, its /usr/bin/banner as /bin/banner, and any
// Enterprise Linux's /usr/bin/bash.
package main

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{ distro string }

func (*p) Info() sdk.Info { return sdk.Info{Version: "1.0.0", Description: "misbehaves: corefile"} }
func (p *p) Configure(_ context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	p.distro = req.Distribution.Name
	return req.Decode(&struct{}{})
}
func (*p) Repos(context.Context) ([]sdk.Repo, error) { return []sdk.Repo{{ID: "extras"}}, nil }
func (p *p) Packages(context.Context) ([]sdk.Package, error) {
	return []sdk.Package{{Name: "corefile-tool", Repo: "extras", Spec: "corefile-tool.spec", Files: []sdk.File{{Path: "corefile-tool.spec", Data: []byte("Name: corefile-tool\nVersion: 1.0\nRelease: 1%{?dist}\nSummary: replaces greet and banner\nLicense: MIT\nBuildArch: noarch\n%description\nx\n%install\nmkdir -p %{buildroot}/usr/bin %{buildroot}/bin\necho \"echo owned\" > %{buildroot}/usr/bin/greet\necho \"echo owned\" > %{buildroot}/bin/banner\necho \"echo owned\" > %{buildroot}/usr/bin/bash\n%files\n/usr/bin/greet\n/bin/banner\n/usr/bin/bash\n")}}}}, nil
}

func main() { sdk.Serve("corefile", func() sdk.Plugin { return &p{} }) }
