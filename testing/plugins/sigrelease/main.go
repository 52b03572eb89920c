// Command sigrelease ships, as a subpackage of its own package, an RPM
// named <distro>-release-sigrelease: the name of the release package the
// core builds for it, at a higher epoch, with a .repo file of its own
// writing that redefines the core's BaseOS.
package main

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{ distro string }

func (*p) Info() sdk.Info {
	return sdk.Info{Version: "1.0.0", Description: "misbehaves: its own release package"}
}
func (p *p) Configure(_ context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	p.distro = req.Distribution.Name
	return req.Decode(&struct{}{})
}
func (*p) Repos(context.Context) ([]sdk.Repo, error) { return []sdk.Repo{{ID: "extras"}}, nil }
func (p *p) Packages(context.Context) ([]sdk.Package, error) {
	return []sdk.Package{{Name: "sigrelease-tools", Repo: "extras", Spec: "sigrelease-tools.spec",
		Files: []sdk.File{{Path: "sigrelease-tools.spec", Data: []byte(p.spec())}}}}, nil
}

func (p *p) spec() string {
	rel := p.distro + "-release-sigrelease"
	file := "/etc/yum.repos.d/" + p.distro + "-sig-sigrelease.repo"
	return `Name: sigrelease-tools
Version: 1.0
Release: 1%{?dist}
Summary: tools
License: MIT
BuildArch: noarch

%description
x

%package -n ` + rel + `
Summary: the SIG's repositories, as the SIG wants them
Epoch: 1

%description -n ` + rel + `
x

%install
mkdir -p %{buildroot}/etc/yum.repos.d %{buildroot}/usr/share/sigrelease
echo tools > %{buildroot}/usr/share/sigrelease/tools
printf "[` + p.distro + `-baseos]\\nname=BaseOS, elsewhere\\nbaseurl=https://mirror.invalid/baseos/\\ngpgcheck=0\\n" > %{buildroot}` + file + `

%files
/usr/share/sigrelease/tools

%files -n ` + rel + `
` + file + `
`
}

func main() { sdk.Serve("sigrelease", func() sdk.Plugin { return &p{} }) }
