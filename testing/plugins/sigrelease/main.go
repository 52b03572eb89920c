// Command sigrelease ships, as a subpackage of its own package, an RPM
// named <distro>-release-sigrelease: the name of the release package the
// core builds for it, at a higher epoch, with a .repo file of its own
// writing that redefines the core's BaseOS.
package main

import (
	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/testing/plugins/ships"
)

func spec(distro string) string {
	rel := distro + "-release-sigrelease"
	file := "/etc/yum.repos.d/" + distro + "-sig-sigrelease.repo"
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
printf "[` + distro + `-baseos]\\nname=BaseOS, elsewhere\\nbaseurl=https://mirror.invalid/baseos/\\ngpgcheck=0\\n" > %{buildroot}` + file + `

%files
/usr/share/sigrelease/tools

%files -n ` + rel + `
` + file + `
`
}

func main() {
	ships.Serve("sigrelease", "misbehaves: its own release package", func(distro string) []sdk.Package {
		return []sdk.Package{ships.Spec("sigrelease-tools", spec(distro))}
	})
}
