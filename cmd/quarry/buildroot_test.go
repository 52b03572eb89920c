package main_test

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// writeImage writes a tiny rootfs tarball: enough to pin, not to build in.
func writeImage(t *testing.T, path string, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{"etc/os-release", "etc/extra"} {
		body, ok := files[name]
		if !ok {
			continue
		}
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
	}
	tw.Close()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBuildrootPins: import pins every arch's image; an image that
// changed stops import and build, naming the arch, the image and the way
// out, with quarry.lock byte-identical; `quarry buildroot pin` takes the
// change; the same stream compressed otherwise is the same pin.
func TestBuildrootPins(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.editConfig("build:\n  limits:", "build:\n  buildroot:\n    image: images/{arch}.tar\n  limits:")
	img := func(a string) string { return filepath.Join(d.dir, "images", a+".tar") }
	for _, a := range []string{"x86_64", "aarch64", "ppc64le", "s390x"} {
		writeImage(t, img(a), map[string]string{"etc/os-release": "ID=standin-" + a + "\n"})
	}
	d.mustRun("import")
	lock := string(d.readLock())
	for _, a := range []string{"x86_64", "aarch64", "ppc64le", "s390x"} {
		if !strings.Contains(lock, `"image": "`+img(a)+`"`) {
			t.Fatalf("the lock does not pin %s's image:\n%s", a, lock)
		}
	}
	if out := d.mustRun("buildroot", "list"); strings.Count(out, "status pinned") != 4 {
		t.Fatalf("buildroot list:\n%s", out)
	}
	before := d.readLock()

	// The aarch64 image gains a file.
	data := writeImage(t, img("aarch64"), map[string]string{"etc/os-release": "ID=standin-aarch64\n", "etc/extra": "new\n"})
	for _, args := range [][]string{{"import"}, {"build", "--no-import", "--no-publish"}, {"plan"}} {
		_, errOut, code := d.run(args...)
		if code == 0 {
			t.Fatalf("quarry %s accepted a changed image", strings.Join(args, " "))
		}
		for _, want := range []string{"buildroot aarch64: " + img("aarch64") + " is sha256:", "quarry.lock pins sha256:", "quarry buildroot pin aarch64"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("quarry %s: stderr does not say %q:\n%s", strings.Join(args, " "), want, errOut)
			}
		}
		if !bytes.Equal(d.readLock(), before) {
			t.Fatalf("quarry %s changed the lock", strings.Join(args, " "))
		}
	}
	out, _, code := d.run("buildroot", "list")
	if code != 1 || !strings.Contains(out, "status changed since pinned") {
		t.Fatalf("buildroot list: exit %d\n%s", code, out)
	}

	// Pinned again, the change is taken; the others stay as they were.
	if out := d.mustRun("buildroot", "pin", "aarch64"); !strings.Contains(out, "aarch64  pinned sha256:") || !strings.Contains(out, "(was sha256:") {
		t.Fatalf("buildroot pin:\n%s", out)
	}
	d.mustRun("import")
	after := string(d.readLock())
	if after == string(before) {
		t.Fatal("the pin did not change")
	}

	// The same tar stream as .tar.zst: the same pin, although the file
	// and its name differ.
	enc, _ := zstd.NewWriter(nil)
	os.WriteFile(filepath.Join(d.dir, "images", "aarch64.tar.zst"), enc.EncodeAll(data, nil), 0o644)
	d.editConfig("  limits:", "    images: {aarch64: images/aarch64.tar.zst}\n  limits:")
	d.mustRun("import")
	if !strings.Contains(d.mustRun("buildroot", "list"), "aarch64  "+filepath.Join(d.dir, "images", "aarch64.tar.zst")) {
		t.Fatal("buildroot list does not show the new image")
	}

	// A missing image, an unknown arch.
	os.Remove(img("s390x"))
	if _, errOut, code := d.run("import"); code == 0 || !strings.Contains(errOut, "buildroot s390x: ") || !strings.Contains(errOut, "s390x.tar") {
		t.Fatalf("a missing image: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := d.run("buildroot", "pin", "mips"); code != 2 || !strings.Contains(errOut, "mips is not one of the distribution's arches") {
		t.Fatalf("pin mips: exit %d\n%s", code, errOut)
	}
}
