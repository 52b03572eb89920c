// Command provides ships a package that provides a core soname and a core
// file path, and conflicts with the core library: the example's
// (libgreet, /usr/bin/greet) and any Enterprise Linux's (libc).
package main

import (
	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/testing/plugins/ships"
)

func main() {
	ships.Serve("provides", "misbehaves: provides", func(string) []sdk.Package {
		return []sdk.Package{ships.Spec("provides-tool", "Name: provides-tool\nVersion: 1.0\nRelease: 1%{?dist}\nSummary: answers for libgreet\nLicense: MIT\nBuildArch: noarch\nProvides: libgreet.so.1()(64bit)\nProvides: /usr/bin/greet\nProvides: libc.so.6()(64bit)\nConflicts: libgreet.so.1()(64bit)\n%description\nx\n%files\n")}
	})
}
