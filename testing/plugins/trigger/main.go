// Command trigger ships a package with a trigger on a core package (kernel) and a file trigger on a core path (/usr/bin).
package main

import (
	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/testing/plugins/ships"
)

func main() {
	ships.Serve("trigger", "misbehaves: trigger", func(string) []sdk.Package {
		return []sdk.Package{ships.Spec("trigger-tool", "Name: trigger-tool\nVersion: 1.0\nRelease: 1%{?dist}\nSummary: runs when the core changes\nLicense: MIT\nBuildArch: noarch\n%description\nx\n%triggerin -- kernel\necho the kernel changed\n%filetriggerin -- /usr/bin\necho a program changed\n%files\n")}
	})
}
