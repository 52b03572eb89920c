// Package arch describes the architectures Quarry builds for: their GNU
// triplets, the Debian packages of their cross toolchains, what their ELF
// files look like and which qemu-user runs them.
package arch

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"runtime"
)

// Noarch is the architecture of packages without machine code.
const Noarch = "noarch"

// Arch is one RPM architecture.
type Arch struct {
	Name    string // rpm's name: x86_64, aarch64, ppc64le, s390x
	Triplet string // GNU triplet of Debian's cross toolchain: aarch64-linux-gnu
	// Package is the Debian package that provides <Triplet>-gcc, and
	// Libc the one with its C library (headers, crt files, libc.so): only
	// a Recommends of the compiler, so it is checked on its own.
	Package string
	Libc    string
	Machine elf.Machine
	Order   elf.Data
	QEMU    string // qemu-user binary
}

var known = map[string]Arch{
	"x86_64":  {"x86_64", "x86_64-linux-gnu", "gcc-x86-64-linux-gnu", "libc6-dev-amd64-cross", elf.EM_X86_64, elf.ELFDATA2LSB, "qemu-x86_64"},
	"aarch64": {"aarch64", "aarch64-linux-gnu", "gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross", elf.EM_AARCH64, elf.ELFDATA2LSB, "qemu-aarch64"},
	"ppc64le": {"ppc64le", "powerpc64le-linux-gnu", "gcc-powerpc64le-linux-gnu", "libc6-dev-ppc64el-cross", elf.EM_PPC64, elf.ELFDATA2LSB, "qemu-ppc64le"},
	"s390x":   {"s390x", "s390x-linux-gnu", "gcc-s390x-linux-gnu", "libc6-dev-s390x-cross", elf.EM_S390, elf.ELFDATA2MSB, "qemu-s390x"},
}

// Lookup returns a known architecture.
func Lookup(name string) (Arch, bool) {
	a, ok := known[name]
	return a, ok
}

// Host is the machine's own architecture in rpm's naming.
func Host() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "ppc64le":
		return "ppc64le"
	case "s390x":
		return "s390x"
	}
	return runtime.GOARCH
}

// Native says whether the host builds this arch without a cross toolchain.
func (a Arch) Native() bool { return a.Name == Host() }

// Compiler is the C compiler that targets a.
func (a Arch) Compiler() string { return a.Triplet + "-gcc" }

// ToolchainError says a cross toolchain is not installed.
type ToolchainError struct {
	Arch    string
	Missing string
	Package string
}

func (e *ToolchainError) Error() string {
	return fmt.Sprintf("%s: the cross toolchain is missing (%s not found): apt-get install %s", e.Arch, e.Missing, e.Package)
}

// CheckToolchain reports a missing compiler or C library for a.
func (a Arch) CheckToolchain() error {
	cc, libc, header := a.Package, a.Libc, "/usr/"+a.Triplet+"/include/bits/libc-header-start.h"
	if a.Native() {
		cc, libc, header = "gcc", "libc6-dev", "/usr/include/"+a.Triplet+"/bits/libc-header-start.h"
	}
	if _, err := exec.LookPath(a.Compiler()); err != nil {
		return &ToolchainError{Arch: a.Name, Missing: a.Compiler(), Package: cc}
	}
	if _, err := os.Stat(header); err != nil {
		return &ToolchainError{Arch: a.Name, Missing: header, Package: libc}
	}
	return nil
}

// CheckELF says whether an ELF file's header matches a.
func (a Arch) CheckELF(f *elf.FileHeader) error {
	if f.Machine != a.Machine || f.Data != a.Order || f.Class != elf.ELFCLASS64 {
		return fmt.Errorf("is %s %s %s, not %s", f.Class, f.Data, f.Machine, a.Name)
	}
	return nil
}
