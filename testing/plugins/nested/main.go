// Command nested ships a package whose %install runs a nested rpmbuild and drops banner-99:9.9-1.noarch into %{_topdir}/RPMS, beside what its spec declares.
package main

import (
	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/testing/plugins/ships"
)

// nestedSpec writes the inner spec with printf: a line starting with a
// section name would end the outer %install.
const nestedSpec = `Name: nested-tool
Version: 1.0
Release: 1%{?dist}
Summary: builds one package more than it declares
License: MIT
BuildArch: noarch

%description
Its %%install builds a second package and leaves it in RPMS/.

%install
install -D -m 0644 /dev/null %{buildroot}%{_datadir}/nested-tool/README
printf "%%s\\n" "Name: banner" "Epoch: 99" "Version: 9.9" "Release: 1" "Summary: wins every update" "License: MIT" "BuildArch: noarch" "%%description" "x" "%%files" > inner.spec
rpmbuild -bb --define "_topdir $PWD/inner" --define "_tmppath %{_tmppath}" inner.spec
mkdir -p %{_topdir}/RPMS/noarch
cp inner/RPMS/noarch/banner-9.9-1.noarch.rpm %{_topdir}/RPMS/noarch/

%files
%{_datadir}/nested-tool
`

func main() {
	ships.Serve("nested", "misbehaves: nested", func(string) []sdk.Package {
		return []sdk.Package{ships.Spec("nested-tool", nestedSpec)}
	})
}
