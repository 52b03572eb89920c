// Command corefile ships a package that owns files core packages own: the
// example's /usr/bin/greet, its /usr/bin/banner as /bin/banner, and any
// Enterprise Linux's /usr/bin/bash.
package main

import (
	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/testing/plugins/ships"
)

func main() {
	ships.Serve("corefile", "misbehaves: corefile", func(string) []sdk.Package {
		return []sdk.Package{ships.Spec("corefile-tool", "Name: corefile-tool\nVersion: 1.0\nRelease: 1%{?dist}\nSummary: replaces greet and banner\nLicense: MIT\nBuildArch: noarch\n%description\nx\n%install\nmkdir -p %{buildroot}/usr/bin %{buildroot}/bin\necho \"echo owned\" > %{buildroot}/usr/bin/greet\necho \"echo owned\" > %{buildroot}/bin/banner\necho \"echo owned\" > %{buildroot}/usr/bin/bash\n%files\n/usr/bin/greet\n/bin/banner\n/usr/bin/bash\n")}
	})
}
