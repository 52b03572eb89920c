package source

import (
	"fmt"
	"path"
	"strings"

	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/core/store"
)

// SRPM is a source package read from its file, checked, and unpacked.
type SRPM struct {
	Name, Version, Release string
	Epoch                  int
	// Tree holds the spec under SPECS/ and the rest under SOURCES/;
	// archives are marked lookaside.
	Tree store.Tree
}

// ReadSRPM checks an SRPM's digests and unpacks its payload (cpio, with
// gzip, bzip2, xz or zstd compression) without running any rpm tool. name
// is the file's name, for messages.
func ReadSRPM(name string, data []byte) (*SRPM, error) {
	fail := func(format string, args ...any) (*SRPM, error) {
		return nil, fmt.Errorf("SRPM %s: %s", name, fmt.Sprintf(format, args...))
	}
	pkg, err := rpmfile.Read("SRPM "+name, data)
	if err != nil {
		return nil, err
	}
	if !pkg.IsSource() {
		return fail("is a binary RPM, not a source RPM")
	}
	files, err := pkg.Files()
	if err != nil {
		return fail("%v", err)
	}
	if len(files) == 0 {
		return fail("payload holds no files")
	}
	s := &SRPM{Name: pkg.Name(), Version: pkg.Version(), Release: pkg.Release(), Epoch: pkg.Epoch(), Tree: store.Tree{}}
	specs := 0
	for p, f := range files {
		if strings.Contains(p, "/") {
			return fail("payload file %s is in a folder; SRPM payloads are flat", p)
		}
		if strings.HasSuffix(p, ".spec") {
			specs++
			s.Tree["SPECS/"+p] = f
			continue
		}
		f.Lookaside = isArchive(p)
		s.Tree["SOURCES/"+p] = f
	}
	if specs != 1 {
		return fail("holds %d spec files, expected 1", specs)
	}
	return s, nil
}

// isArchive tells the sources that belong in a lookaside, not in git.
func isArchive(name string) bool {
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".zip", ".gem", ".crate", ".jar", ".whl"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return path.Ext(name) == ".gz" || path.Ext(name) == ".xz" || path.Ext(name) == ".bz2"
}
