package debrand

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/quarrylinux/quarry/core/store"
)

// examplePackages are the example packages that have patch repositories.
var examplePackages = []string{"banner", "greet", "summit-release", "summit-logos"}

func exampleDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "distro")
}

// exampleFiles reads every file under dir, by slash path relative to it.
func exampleFiles(f *testing.F, dir string) map[string][]byte {
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	return out
}

// FuzzDirectives loads any bytes as a directive file and applies it, with
// any bytes as a patch file of the patch repository, to one of the example
// packages: loading and applying fail with errors naming the file, or
// change the tree, whose paths stay clean and relative; applying twice
// gives the same tree and the same errors.
func FuzzDirectives(f *testing.F) {
	patches := map[string][]byte{} // every example patch repository's files
	var cfgs [][]byte
	for _, pkg := range examplePackages {
		for p, data := range exampleFiles(f, filepath.Join(exampleDir(), "patches", pkg, "main")) {
			if strings.HasSuffix(p, ".cfg") {
				cfgs = append(cfgs, data)
				continue
			}
			patches[p] = data
		}
		if r9, err := os.ReadFile(filepath.Join(exampleDir(), "patches", pkg, "r9", "ROCKY", "CFG", "release.cfg")); err == nil {
			cfgs = append(cfgs, r9)
		}
	}
	realPatch := patches["ROCKY/PATCHES/0001-banner-says-pebble.patch"]
	for _, c := range cfgs {
		for pkg := range examplePackages {
			layout := uint8(0)
			if strings.Contains(string(c), `"PATCHES/`) {
				layout = 0x80
			}
			f.Add(uint8(pkg)|layout, c, realPatch)
		}
	}
	f.Add(uint8(0), []byte(`patch { file: "ROCKY/PATCHES/fuzz.patch" }`), realPatch)
	trees := make([]store.Tree, len(examplePackages))
	for i, pkg := range examplePackages {
		trees[i] = store.Tree{}
		dir := filepath.Join(exampleDir(), "packages", pkg)
		spec, err := os.ReadFile(filepath.Join(dir, pkg+".spec"))
		if err != nil {
			f.Fatal(err)
		}
		trees[i]["SPECS/"+pkg+".spec"] = &store.File{Data: spec}
		for p, data := range exampleFiles(f, filepath.Join(dir, "files")) {
			trees[i]["SOURCES/"+p] = &store.File{Data: data}
		}
		trees[i]["SOURCES/"+pkg+".tar.gz"] = &store.File{Data: []byte("tarball"), Lookaside: true}
	}
	f.Fuzz(func(t *testing.T, pkg uint8, cfg, patch []byte) {
		repo := fstest.MapFS{}
		for p, data := range patches {
			if pkg&0x80 != 0 || !strings.HasPrefix(p, "PATCHES/") {
				repo[p] = &fstest.MapFile{Data: data, Mode: 0o644}
			}
		}
		cfgPath := "ROCKY/CFG/fuzz.cfg"
		if pkg&0x80 != 0 {
			cfgPath = "PATCHES/fuzz.cfg"
		}
		repo[cfgPath] = &fstest.MapFile{Data: cfg}
		repo["ROCKY/PATCHES/fuzz.patch"] = &fstest.MapFile{Data: patch}
		base := trees[int(pkg&0x7f)%len(trees)]
		apply := func() (store.Tree, Errors) {
			files, errs := Load(repo, "main")
			c := &Context{
				Package: "fuzz", Tree: base.Clone(), Patches: repo,
				Date: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
				EVR:  func(store.Tree, string) (string, error) { return "1.0-1", nil },
				Lookaside: func(h string) ([]byte, error) {
					if len(h) == 64 {
						return []byte("object " + h), nil
					}
					return nil, errors.New("no such object")
				},
			}
			return c.Tree, append(errs, Apply(c, files)...)
		}
		tree, errs := apply()
		for _, e := range errs {
			if e.File != cfgPath || !strings.Contains(e.Error(), cfgPath) {
				t.Fatalf("error does not name the directive file: %v", e)
			}
		}
		for p := range tree {
			if c, err := store.CleanPath(p); err != nil || c != p {
				t.Fatalf("tree path %q is not clean and relative", p)
			}
		}
		again, errs2 := apply()
		if store.TreeDigest(tree) != store.TreeDigest(again) || errs.Error() != errs2.Error() {
			t.Fatal("applying the same directives twice gave different results")
		}
	})
}
