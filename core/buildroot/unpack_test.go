package buildroot

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

type entry struct {
	name, link string
	typ        byte
	mode       int64
	uid        int
	data       string
}

func image(t *testing.T, entries ...entry) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.uid,
			Size: int64(len(e.data)), ModTime: time.Unix(1700000000, 0)}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.data))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b.Bytes())
	return b.Bytes(), "sha256:" + hex.EncodeToString(sum[:])
}

// of opens data, counting the times.
func of(data []byte, calls *int) Opener {
	return func() (io.ReadCloser, error) {
		if calls != nil {
			*calls++
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	}
}

// never is an image that must not be opened.
func never(t *testing.T) Opener {
	return func() (io.ReadCloser, error) {
		t.Error("a cached image was read again")
		return nil, errors.New("opened")
	}
}

// TestUnpack: files, folders, links and owners land as the image says,
// without setuid bits or device nodes; the second time, the cached folder
// is used without reading the image.
func TestUnpack(t *testing.T) {
	data, digest := image(t,
		entry{name: "./", typ: tar.TypeDir, mode: 0o755},
		entry{name: "./usr/", typ: tar.TypeDir, mode: 0o755},
		entry{name: "./usr/bin/", typ: tar.TypeDir, mode: 0o755},
		entry{name: "./usr/bin/rpm", typ: tar.TypeReg, mode: 0o755, data: "rpm"},
		entry{name: "./usr/bin/su", typ: tar.TypeReg, mode: 0o4755, data: "su"},
		entry{name: "./usr/bin/rpmbuild", typ: tar.TypeLink, link: "./usr/bin/rpm"},
		entry{name: "./bin", typ: tar.TypeSymlink, link: "usr/bin"},
		entry{name: "./etc/resolv.conf", typ: tar.TypeSymlink, link: "/run/systemd/resolve/stub-resolv.conf"},
		entry{name: "./builddir/", typ: tar.TypeDir, mode: 0o755, uid: 1000},
		entry{name: "./dev/null", typ: tar.TypeChar, mode: 0o666},
		entry{name: "./etc/hostname", typ: tar.TypeReg, mode: 0o644, data: "first"},
		entry{name: "./etc/hostname", typ: tar.TypeReg, mode: 0o644, data: "buildroot"},
	)
	cache := t.TempDir()
	u, err := Unpack("x86_64.tar", of(data, nil), digest, cache)
	if err != nil {
		t.Fatal(err)
	}
	if u.Devices != 1 || u.Dir != filepath.Join(cache, "sha256-"+strings.TrimPrefix(digest, "sha256:")) {
		t.Errorf("%+v", u)
	}
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(u.Dir, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if read("usr/bin/rpmbuild") != "rpm" || read("etc/hostname") != "buildroot" {
		t.Error("file contents")
	}
	if st, _ := os.Stat(filepath.Join(u.Dir, "usr/bin/su")); st.Mode()&os.ModeSetuid != 0 || st.Mode().Perm() != 0o755 {
		t.Errorf("su: %v", st.Mode())
	}
	if l, _ := os.Readlink(filepath.Join(u.Dir, "etc/resolv.conf")); l != "/run/systemd/resolve/stub-resolv.conf" {
		t.Errorf("link kept as %q", l)
	}
	if st, _ := os.Stat(filepath.Join(u.Dir, "builddir")); st.Sys().(*syscall.Stat_t).Uid != 1000 {
		t.Errorf("builddir is owned by %d, not 1000", st.Sys().(*syscall.Stat_t).Uid)
	}
	if _, err := os.Lstat(filepath.Join(u.Dir, "dev/null")); !os.IsNotExist(err) {
		t.Errorf("a device node was made: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(u.Dir, complete)); !os.IsNotExist(err) {
		t.Error("the marker is inside the root")
	}
	if _, err := Unpack("x86_64.tar", never(t), digest, cache); err != nil {
		t.Fatal(err)
	}
	// A folder without its marker is a killed run's: unpacked again.
	os.Remove(u.Dir + complete)
	os.WriteFile(filepath.Join(u.Dir, "usr/bin/rpm"), []byte("torn"), 0o755)
	if _, err := Unpack("x86_64.tar", of(data, nil), digest, cache); err != nil || read("usr/bin/rpm") != "rpm" {
		t.Fatalf("an unfinished folder was kept: %v", err)
	}
}

// TestUnpackRefuses: an image of another digest, or one whose entries
// would leave the root, write through a link, link to what it does not
// hold or carry ids a build does not map, is refused naming the entry,
// and nothing of it is kept; nothing outside the root is touched.
func TestUnpackRefuses(t *testing.T) {
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("host file"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		entries []entry
		want    string
	}{
		"dotdot":       {[]entry{{name: "../../escape", typ: tar.TypeReg, mode: 0o644, data: "x"}}, "leaves the image"},
		"absolute":     {[]entry{{name: "/etc/escape", typ: tar.TypeReg, mode: 0o644, data: "x"}}, "an absolute path"},
		"through":      {[]entry{{name: "lnk", typ: tar.TypeSymlink, link: outside}, {name: "lnk/victim", typ: tar.TypeReg, mode: 0o644, data: "owned"}}, "lnk is a link or not a folder: not followed"},
		"overwrite":    {[]entry{{name: "lnk", typ: tar.TypeSymlink, link: victim}, {name: "lnk", typ: tar.TypeReg, mode: 0o644, data: "owned"}}, ""},
		"hardout":      {[]entry{{name: "h", typ: tar.TypeLink, link: "../../" + victim}}, "not a file inside the image"},
		"hardlink":     {[]entry{{name: "lnk", typ: tar.TypeSymlink, link: victim}, {name: "h", typ: tar.TypeLink, link: "lnk"}}, "not a regular file the image holds"},
		"owner":        {[]entry{{name: "f", typ: tar.TypeReg, mode: 0o644, uid: 70000, data: "x"}}, "owner 70000:70000 is outside"},
		"chmodthrough": {[]entry{{name: "d", typ: tar.TypeSymlink, link: outside}, {name: "d", typ: tar.TypeDir, mode: 0o777}}, "not a folder"},
		"wrongdigest":  {[]entry{{name: "f", typ: tar.TypeReg, mode: 0o644, data: "x"}}, "but sha256:"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			data, digest := image(t, tc.entries...)
			if name == "wrongdigest" {
				digest = "sha256:" + strings.Repeat("0", 64)
			}
			cache := t.TempDir()
			calls := 0
			_, err := Unpack("img.tar", of(data, &calls), digest, cache)
			if name == "wrongdigest" && calls != 1 {
				t.Errorf("an image of another digest was opened %d times: it is extracted only once its digest is right", calls)
			}
			if tc.want == "" {
				// A later entry replaces the link itself, never its target.
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "img.tar") {
				t.Fatalf("got %v, want an error naming the image and saying %q", err, tc.want)
			} else if left, _ := filepath.Glob(filepath.Join(cache, "*")); len(left) != 1 || !strings.HasSuffix(left[0], ".lock") {
				t.Errorf("a refused image left %v (only its empty lock file stays)", left)
			} else if hidden, _ := filepath.Glob(filepath.Join(cache, ".*")); len(hidden) != 0 {
				t.Errorf("a refused image left %v", hidden)
			}
			if b, _ := os.ReadFile(victim); string(b) != "host file" {
				t.Fatalf("the file outside the root was changed: %q", b)
			}
			if _, err := os.Stat(filepath.Join(outside, "escape")); err == nil {
				t.Fatal("a file was written outside the root")
			}
			if st, _ := os.Stat(outside); st.Mode().Perm() == 0o777 {
				t.Fatal("the folder outside the root was chmod'ed through a link")
			}
		})
	}
}

// TestDigestIgnoresCompression: an image's pin is its tar stream's, the
// same for the .tar and its .tar.gz, .tar.zst and .tar.xz; and Open feeds
// Unpack.
func TestDigestIgnoresCompression(t *testing.T) {
	data, digest := image(t, entry{name: "etc/os-release", typ: tar.TypeReg, mode: 0o644, data: "ID=pebble\n"})
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var gz, zs, xzb bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(data)
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(data)
	zw.Close()
	xw, _ := xz.NewWriter(&xzb)
	xw.Write(data)
	xw.Close()
	for _, p := range []string{write("r.tar", data), write("r.tar.gz", gz.Bytes()), write("r.tar.zst", zs.Bytes()), write("r.tar.xz", xzb.Bytes())} {
		if got, err := Digest(p, "x86_64"); err != nil || got != digest {
			t.Errorf("%s: %s %v, want %s", filepath.Base(p), got, err, digest)
		}
	}
	u, err := Unpack("r.tar.zst", func() (io.ReadCloser, error) { return Open(filepath.Join(dir, "r.tar.zst"), "x86_64") }, digest, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(u.Dir, "etc/os-release")); string(b) != "ID=pebble\n" {
		t.Errorf("unpacked %q", b)
	}
	if _, err := Digest(write("r.zip", data), "x86_64"); err == nil || !strings.Contains(err.Error(), "r.zip") {
		t.Errorf("an unknown kind of file: %v", err)
	}
}

// TestUnpackRace: processes unpacking one image take turns: each gets the
// same finished root, and none removes what another finished.
func TestUnpackRace(t *testing.T) {
	var entries []entry
	for i := 0; i < 300; i++ {
		entries = append(entries, entry{name: fmt.Sprintf("d/f%03d", i), typ: tar.TypeReg, mode: 0o644, data: "x"})
	}
	data, digest := image(t, entries...)
	cache := t.TempDir()
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			u, err := Unpack("img.tar", of(data, nil), digest, cache)
			if err == nil {
				var files []os.DirEntry
				if files, err = os.ReadDir(filepath.Join(u.Dir, "d")); err == nil && len(files) != 300 {
					err = fmt.Errorf("%d files", len(files))
				}
			}
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestUnpackPlantedCache: a link planted as the marker or as the folder
// is not taken for a finished image, nor written through.
func TestUnpackPlantedCache(t *testing.T) {
	data, digest := image(t, entry{name: "etc/os-release", typ: tar.TypeReg, mode: 0o644, data: "ID=pebble\n"})
	cache, outside := t.TempDir(), t.TempDir()
	dir := filepath.Join(cache, "sha256-"+strings.TrimPrefix(digest, "sha256:"))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(outside, "created"), dir+complete))
	must(os.Symlink(outside, dir))
	u, err := Unpack("img.tar", of(data, nil), digest, cache)
	must(err)
	if st, err := os.Lstat(u.Dir); err != nil || !st.IsDir() {
		t.Fatalf("the image's folder is not a folder: %v", err)
	}
	if left, _ := os.ReadDir(outside); len(left) != 0 {
		t.Errorf("written through a planted link: %v", left)
	}
}

// TestUnpackRefusesSparseFiles: a sparse file (which would expand to its
// full size) is refused; made by the real GNU tar.
func TestUnpackRefusesSparseFiles(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(64 << 20)
	f.Close()
	out, err := exec.Command("tar", "-C", dir, "--sparse", "--format=pax", "-cf", filepath.Join(dir, "sparse.tar"), "big").CombinedOutput()
	if err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "sparse.tar"))
	sum := sha256.Sum256(data)
	_, err = Unpack("sparse.tar", of(data, nil), "sha256:"+hex.EncodeToString(sum[:]), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "a sparse file") {
		t.Fatalf("got %v", err)
	}
}

// TestAttackHostUsersChangeTheRoot: an unpacked root is every later job's
// / (every distribution's, on this machine), and its files keep the
// image's owners as host ids and its modes: its 1777 /tmp, /var/tmp and
// /run/lock are anyone's to write, and a folder of the image's user 1000
// is the host's uid 1000's. No one but root may reach it on the host.
func TestAttackHostUsersChangeTheRoot(t *testing.T) {
	parent := t.TempDir()
	os.Chmod(parent, 0o755)
	os.Chmod(filepath.Dir(parent), 0o755)
	cache := filepath.Join(parent, "roots")
	os.Mkdir(cache, 0o755) // a cache of an earlier Quarry's
	data, digest := image(t,
		entry{name: "./", typ: tar.TypeDir, mode: 0o755},
		entry{name: "./var/", typ: tar.TypeDir, mode: 0o755},
		entry{name: "./var/tmp/", typ: tar.TypeDir, mode: 0o1777},
		entry{name: "./builddir/", typ: tar.TypeDir, mode: 0o755, uid: 1000},
	)
	u, err := Unpack("x86_64", of(data, nil), digest, cache)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		uid  uint32
		path string
	}{{65534, "var/tmp/planted"}, {1000, "builddir/planted"}} {
		target := filepath.Join(u.Dir, c.path)
		cmd := exec.Command("sh", "-c", "echo planted > "+target)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: c.uid, Gid: c.uid, Groups: []uint32{}}}
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Errorf("host uid %d wrote %s into the unpacked root", c.uid, c.path)
		} else {
			t.Logf("uid %d: %v: %s", c.uid, err, out)
		}
	}
}
