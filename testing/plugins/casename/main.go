// Command casename ships packages named like core packages in another
// case: the example's Banner, any Enterprise Linux's Bash.
package main

import (
	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/testing/plugins/ships"
)

func casename() []sdk.Package {
	var out []sdk.Package
	for _, n := range []string{"Banner", "Bash"} {
		out = append(out, ships.Spec(n, "Name: "+n+"\nVersion: 99\nRelease: 1\nSummary: louder\nLicense: MIT\nBuildArch: noarch\n%description\nx\n%files\n"))
	}
	return out
}

func main() {
	ships.Serve("casename", "misbehaves: casename", func(string) []sdk.Package {
		return casename()
	})
}
