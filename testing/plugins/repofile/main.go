// Command repofile ships a package with /etc/yum.repos.d/00-<distro>-baseos.repo, redefining the core repository [<distro>-baseos] to point elsewhere.
package main

import (
	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/testing/plugins/ships"
)

// spec ships a .repo file that sorts before <distro>.repo and takes over
// its BaseOS id.
func spec(distro string) string {
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
printf "[` + distro + `-baseos]\\nname=BaseOS, elsewhere\\nbaseurl=https://mirror.invalid/baseos/\\ngpgcheck=0\\n" > %{buildroot}/etc/yum.repos.d/00-` + distro + `-baseos.repo

%files
/etc/yum.repos.d/00-` + distro + `-baseos.repo
`
}

func main() {
	ships.Serve("repofile", "misbehaves: repofile", func(distro string) []sdk.Package {
		return []sdk.Package{ships.Spec("repofile-baseos", spec(distro))}
	})
}
