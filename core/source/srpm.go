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
	// Tree holds the spec (the file rpm flags as the spec, under its own
	// name, which need not end in .spec) under SPECS/ and the rest under
	// SOURCES/; archives are marked lookaside.
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
	spec, err := specFile(pkg, files)
	if err != nil {
		return fail("%v", err)
	}
	for p, f := range files {
		if strings.Contains(p, "/") {
			return fail("payload file %s is in a folder; SRPM payloads are flat", p)
		}
		if p == spec {
			s.Tree["SPECS/"+p] = f
			continue
		}
		f.Lookaside = isArchive(p)
		s.Tree["SOURCES/"+p] = f
	}
	return s, nil
}

// specFile is the payload file that is the SRPM's spec: the one its
// header flags as the spec (RPMFILE_SPECFILE), whatever its name, as rpm
// finds it; any other .spec file is a source. Only an SRPM whose header
// carries no file flags (a very old one) has its spec found by its .spec
// suffix.
func specFile(pkg *rpmfile.File, files map[string]*store.File) (string, error) {
	specs, flagged := pkg.FlaggedFiles(rpmfile.FileSpecFile)
	if !flagged {
		specs = nil
		for p := range files {
			if strings.HasSuffix(p, ".spec") {
				specs = append(specs, p)
			}
		}
		if len(specs) != 1 {
			return "", fmt.Errorf("carries no file flags and holds %d .spec files, expected 1", len(specs))
		}
	}
	if len(specs) != 1 {
		return "", fmt.Errorf("flags %d files as its spec, expected 1", len(specs))
	}
	if files[specs[0]] == nil {
		return "", fmt.Errorf("its spec %s is not in the payload", specs[0])
	}
	return specs[0], nil
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
