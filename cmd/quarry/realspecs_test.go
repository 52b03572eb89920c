package main_test

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// elfArch is what an ELF file of each arch's jobs is (machine, class and
// byte order), with the image's multiarch folder and loader.
var elfArch = map[string]struct {
	machine     elf.Machine
	order       elf.Data
	triplet, ld string
}{
	"x86_64":  {elf.EM_X86_64, elf.ELFDATA2LSB, "x86_64-linux-gnu", "ld-linux-x86-64.so.2"},
	"aarch64": {elf.EM_AARCH64, elf.ELFDATA2LSB, "aarch64-linux-gnu", "ld-linux-aarch64.so.1"},
	"ppc64le": {elf.EM_PPC64, elf.ELFDATA2LSB, "powerpc64le-linux-gnu", "ld64.so.2"},
	"s390x":   {elf.EM_S390, elf.ELFDATA2MSB, "s390x-linux-gnu", "ld64.so.1"},
}

// TestRealSpecsBuildNative builds specs written as real ones are, not
// through %{__cc}: hello-make calls gcc and make by name, hello-configure
// runs ./configure && make && make install DESTDIR=. For every arch, in
// that arch's buildroot, every ELF file of every output is of the job's
// arch (machine, 64-bit, byte order), and the programs, run under
// qemu-user with the image's loader and C library, say that the compiler built for
// that arch and that configure found that system. (The cross mode, checked
// last, compiles such specs' programs for the host.)
func TestRealSpecsBuildNative(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	pkgs := fixtures.RealSpecs(t)
	var names []string
	for _, p := range pkgs {
		names = append(names, p.Name)
	}
	d.publish(pkgs...)
	d.only(names, names)
	d.mustRun("import")
	d.keyInit()
	jobs, stderr, code := d.buildJSON(nil, "--no-publish")
	if code != 0 {
		t.Fatalf("build exited %d:\n%s", code, stderr)
	}
	// Each program and what it prints, by arch.
	want := map[string]func(a string) string{
		"usr/bin/hello-make":      func(a string) string { return "hello-make: compiled for " + a },
		"usr/bin/hello-make-arch": func(a string) string { return a },
		"usr/bin/hello-configure": func(a string) string {
			return "hello-configure: configured for " + elfArch[a].triplet + ", running on " + a
		},
	}
	for _, a := range []string{"x86_64", "aarch64", "ppc64le", "s390x"} {
		root := t.TempDir()
		elves := 0
		for _, name := range names {
			j := jobs[name+"/"+a]
			if j.Status != "built" || len(j.Outputs) == 0 {
				t.Errorf("%s/%s: %s %s", name, a, j.Status, j.Error)
				continue
			}
			for _, o := range j.Outputs {
				data, err := os.ReadFile(filepath.Join(d.state, "store", "blobs", "sha256", o.SHA256[:2], o.SHA256))
				if err != nil {
					t.Fatal(err)
				}
				rpm, err := rpmfile.Read(o.File, data)
				if err != nil {
					t.Fatal(err)
				}
				if rpm.Architecture() != a {
					t.Errorf("%s of job %s/%s is %s", o.File, name, a, rpm.Architecture())
				}
				files, err := rpm.Files()
				if err != nil {
					t.Fatal(err)
				}
				for path, f := range files {
					if !bytes.HasPrefix(f.Data, []byte(elf.ELFMAG)) {
						continue
					}
					elves++
					ef, err := elf.NewFile(bytes.NewReader(f.Data))
					if err != nil {
						t.Errorf("%s: /%s: %v", o.File, path, err)
						continue
					}
					w := elfArch[a]
					if ef.Machine != w.machine || ef.Class != elf.ELFCLASS64 || ef.Data != w.order {
						t.Errorf("%s: /%s is %s %s %s, want %s %s %s", o.File, path, ef.Machine, ef.Class, ef.Data, w.machine, elf.ELFCLASS64, w.order)
					}
				}
				extract(t, d, o.SHA256, root)
			}
		}
		// hello-make, hello-make-arch, hello-configure, libhelloconf.so.0.1
		if elves != 4 {
			t.Errorf("%s: %d ELF files in the outputs, want 4", a, elves)
		}
		// The image's loader by its own path: the images' /lib64 links are
		// absolute, which qemu's -L does not follow into the image.
		image := fixtures.Buildroot(t, a).Root
		ld := filepath.Join(image, "usr/lib", elfArch[a].triplet, elfArch[a].ld)
		for bin, say := range want {
			cmd := exec.Command("qemu-"+a, "-L", image, ld, "--library-path", filepath.Join(root, "usr/lib", elfArch[a].triplet), filepath.Join(root, bin))
			out, err := cmd.CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != say(a) {
				t.Errorf("%s /%s: %v: %q, want %q", a, bin, err, out, say(a))
			}
		}
	}

	// The cross mode (an opt-in) runs such specs on the host: their gcc
	// is the host's, and no foreign job of theirs makes an RPM (the cross
	// strip, then the ELF check, refuses x86-64 programs).
	raw, _ := os.ReadFile(d.config())
	d.writeConfig(string(raw) + "build:\n  toolchain: cross\n")
	cross, _, code := d.buildJSON(nil, "--no-publish")
	if code == 0 {
		t.Error("the cross mode built foreign RPMs of host programs")
	}
	for _, name := range names {
		if j := cross[name+"/x86_64"]; j.Status != "built" {
			t.Errorf("%s/x86_64 in the cross mode: %s %s", name, j.Status, j.Error)
		}
		for _, a := range []string{"aarch64", "ppc64le", "s390x"} {
			if j := cross[name+"/"+a]; j.Status != "failed" || len(j.Outputs) > 0 {
				t.Errorf("%s/%s in the cross mode: %s %v; want it to fail", name, a, j.Status, j.Outputs)
			}
		}
	}
}
