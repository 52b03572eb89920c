package arch

import (
	"errors"
	"testing"
)

// The C library is only a Recommends of Debian's cross compilers: a
// toolchain with the compiler but not the library is reported, naming the
// package to install, before any job fails on a missing header.
func TestCheckToolchainNamesTheMissingPackage(t *testing.T) {
	for name, a := range known {
		if err := a.CheckToolchain(); err != nil {
			t.Errorf("%s: %v (make deps installs every toolchain)", name, err)
		}
	}
	noCC := Arch{Name: "fake", Triplet: "fake-linux-gnu", Package: "gcc-fake-linux-gnu", Libc: "libc6-dev-fake-cross"}
	var te *ToolchainError
	if err := noCC.CheckToolchain(); !errors.As(err, &te) || te.Package != "gcc-fake-linux-gnu" {
		t.Errorf("no compiler: got %v, want the compiler's package named", err)
	}
	// x86_64's compiler exists under its triplet, but no cross C library
	// does at /usr/x86_64-linux-gnu on a Debian amd64 host.
	noLibc := known["x86_64"]
	noLibc.Name = "fake"
	if err := noLibc.CheckToolchain(); !errors.As(err, &te) || te.Package != "libc6-dev-amd64-cross" {
		t.Errorf("no C library: got %v, want libc6-dev-amd64-cross named", err)
	}
}
