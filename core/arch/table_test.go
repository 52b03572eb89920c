package arch

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The table: the four arches Quarry builds, each under its rpm name, and
// nothing else (noarch is no machine; rpm's other names are not built).
func TestTable(t *testing.T) {
	var names []string
	for name, a := range known {
		names = append(names, name)
		if a.Name != name {
			t.Errorf("%s is listed as %s", name, a.Name)
		}
		if got, ok := Lookup(name); !ok || got != a {
			t.Errorf("Lookup(%s) = %v, %v", name, got, ok)
		}
		if a.Compiler() != a.Triplet+"-gcc" || !strings.HasPrefix(a.Package, "gcc-") || !strings.HasPrefix(a.Libc, "libc6-dev-") {
			t.Errorf("%s: compiler %s, packages %s and %s", name, a.Compiler(), a.Package, a.Libc)
		}
		if a.QEMU != "qemu-"+name {
			t.Errorf("%s: qemu-user's binary is %s", name, a.QEMU)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"aarch64", "ppc64le", "s390x", "x86_64"}) {
		t.Errorf("the arches are %v", names)
	}
	for _, name := range []string{Noarch, "i686", "ppc64", "armv7hl", "amd64", "arm64", ""} {
		if a, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) found %v", name, a)
		}
	}
}

// The host is the arch uname -m names (rpm's names are the kernel's for
// these four), and it alone is native.
func TestHost(t *testing.T) {
	out, err := exec.Command("uname", "-m").Output()
	if err != nil {
		t.Fatal(err)
	}
	if machine := strings.TrimSpace(string(out)); Host() != machine {
		t.Errorf("Host() = %s, uname -m says %s", Host(), machine)
	}
	native := 0
	for name, a := range known {
		if a.Native() != (name == Host()) {
			t.Errorf("%s: Native() = %v on a %s host", name, a.Native(), Host())
		}
		if a.Native() {
			native++
		}
	}
	if native != 1 {
		t.Errorf("%d native arches on a %s host", native, Host())
	}
}

const hello = `#include <stdio.h>
int main(void) { printf("hello from %d-byte pointers\n", (int)sizeof(void *)); return 0; }
`

// compile builds hello, statically, with a's compiler.
func compile(t *testing.T, a Arch) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "hello.c")
	if err := os.WriteFile(src, []byte(hello), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "hello-"+a.Name)
	if out, err := exec.Command(a.Compiler(), "-static", "-O0", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", a.Compiler(), err, out)
	}
	return bin
}

// Each arch's ELF machine, byte order and class are those of what its
// real compiler writes: CheckELF takes its own arch's program and refuses
// it for every other arch, saying what the file is. The qemu-user binary
// named runs the program (the host's too, as qemu would run a
// buildroot's).
func TestELFAndQEMUAreTheToolchains(t *testing.T) {
	for name, a := range known {
		bin := compile(t, a)
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		hdr := f.FileHeader
		f.Close()
		if err := a.CheckELF(&hdr); err != nil {
			t.Errorf("%s: its compiler's program: %v", name, err)
		}
		for other, b := range known {
			if other == name {
				continue
			}
			err := b.CheckELF(&hdr)
			if err == nil || !strings.Contains(err.Error(), "not "+other) || !strings.Contains(err.Error(), hdr.Machine.String()) {
				t.Errorf("%s's program checked as %s: %v", name, other, err)
			}
		}
		out, err := exec.Command(a.QEMU, bin).CombinedOutput()
		if err != nil || string(out) != "hello from 8-byte pointers\n" {
			t.Errorf("%s %s: %v %q", a.QEMU, filepath.Base(bin), err, out)
		}
		if a.Native() {
			if out, err := exec.Command(bin).CombinedOutput(); err != nil || string(out) != "hello from 8-byte pointers\n" {
				t.Errorf("%s natively: %v %q", filepath.Base(bin), err, out)
			}
		}
	}
}

// The same machine in the other byte order, or a 32-bit file, is not the
// arch: ppc64 (big-endian) is not ppc64le, s390 is not s390x.
func TestCheckELFOrderAndClass(t *testing.T) {
	ppc, s390 := known["ppc64le"], known["s390x"]
	for _, c := range []struct {
		a    Arch
		hdr  elf.FileHeader
		want string
	}{
		{ppc, elf.FileHeader{Class: elf.ELFCLASS64, Data: elf.ELFDATA2MSB, Machine: elf.EM_PPC64}, "ELFCLASS64 ELFDATA2MSB EM_PPC64, not ppc64le"},
		{s390, elf.FileHeader{Class: elf.ELFCLASS32, Data: elf.ELFDATA2MSB, Machine: elf.EM_S390}, "ELFCLASS32 ELFDATA2MSB EM_S390, not s390x"},
		{known["x86_64"], elf.FileHeader{Class: elf.ELFCLASS32, Data: elf.ELFDATA2LSB, Machine: elf.EM_386}, "not x86_64"},
	} {
		if err := c.a.CheckELF(&c.hdr); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v as %s: %v, want %q", c.hdr, c.a.Name, err, c.want)
		}
	}
}
