package compose

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/quarrylinux/quarry/testing/fixtures"
)

// wellFormed says whether doc is one well-formed XML document.
func wellFormed(doc string) error {
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// FuzzRead reads any bytes, as they are and with their digests recomputed,
// as an RPM for the repodata: Read fails naming the file, or gives a
// package with a name, version and arch whose primary, filelists and other
// fragments are well-formed XML, whatever its header's strings hold.
func FuzzRead(f *testing.F) {
	seeds, err := fixtures.SeedRPMs(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		f.Add(s.Data)
	}
	rich, err := fixtures.BuildSpec(f.TempDir(), "richpkg", fixtures.RichSpec)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range rich {
		data, _ := os.ReadFile(p)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkPackage(t, data)
		checkPackage(t, fixtures.Redigest(data))
	})
}

func checkPackage(t *testing.T, data []byte) {
	p, err := Read("fuzz.rpm", data, "Packages/f/fuzz.rpm", -1)
	if err != nil {
		if !strings.HasPrefix(err.Error(), "fuzz.rpm: ") {
			t.Fatalf("error does not name the file: %v", err)
		}
		return
	}
	if p.Name == "" || p.Version == "" || p.Arch == "" {
		t.Fatalf("package %q-%q.%q", p.Name, p.Version, p.Arch)
	}
	for _, doc := range []string{
		`<metadata xmlns="` + nsCommon + `" xmlns:rpm="` + nsRPM + `">` + primaryXML(p) + `</metadata>`,
		`<filelists xmlns="` + nsFilelists + `">` + filelistsXML(p) + `</filelists>`,
		`<otherdata xmlns="` + nsOther + `">` + otherXML(p) + `</otherdata>`,
	} {
		if err := wellFormed(doc); err != nil {
			t.Fatalf("%v in %q", err, doc)
		}
	}
}

// FuzzCheckRepodata checks any repomd.xml, and any bytes as a compressed
// document it may name, against real repodata: no location outside the
// repository is read, decompression is bounded by the open size, and the
// real repodata checks clean.
func FuzzCheckRepodata(f *testing.F) {
	dir := f.TempDir()
	data := fixtures.SyntheticRPM("synth", "1.0", "1", 1700000000)
	os.WriteFile(filepath.Join(dir, "synth.rpm"), data, 0o644)
	real := map[string][]byte{}
	for _, c := range []string{"gz", "zst"} {
		idx := &Index{Entries: map[string]*Entry{}}
		inputs, _, _ := ScanDir(dir, false)
		up := idx.Update(inputs)
		if err := up.Err(); err != nil {
			f.Fatal(err)
		}
		entries := up.Entries
		out := filepath.Join(f.TempDir(), c)
		os.MkdirAll(out, 0o755)
		if _, err := WriteRepodata(out, entries, Options{Compression: c, Revision: 1700000000}); err != nil {
			f.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(out, "repodata", "*"))
		for _, p := range files {
			b, _ := os.ReadFile(p)
			real["repodata/"+filepath.Base(p)] = b
		}
		repomd := real["repodata/repomd.xml"]
		if problems := CheckRepodata(mapFS(real, nil, nil), ".", "/repo"); len(problems) != 0 {
			f.Fatalf("real %s repodata: %q", c, problems)
		}
		for p, b := range real {
			if strings.HasSuffix(p, ".gz") || strings.HasSuffix(p, ".zst") {
				f.Add(repomd, b)
			}
		}
	}
	f.Add([]byte(`<repomd><data type="x"><location href="../../etc/passwd"/><checksum type="sha256">0</checksum></data></repomd>`), []byte{})
	f.Fuzz(func(t *testing.T, repomd, blob []byte) {
		before := fixtures.Allocated()
		opened := map[string]bool{}
		problems := CheckRepodata(recordFS{mapFS(real, repomd, blob), opened}, ".", "/repo")
		if alloc := fixtures.Allocated() - before; alloc > uint64(64*(len(repomd)+len(blob))+200<<20) {
			t.Fatalf("checking %d+%d bytes allocated %d", len(repomd), len(blob), alloc)
		}
		for p := range opened {
			if !strings.HasPrefix(p, "repodata/") && !strings.HasPrefix(p, "etc/") {
				t.Fatalf("opened %q", p)
			}
		}
		if bytes.Equal(repomd, real["repodata/repomd.xml"]) && len(problems) != 0 {
			t.Fatalf("the real repodata has problems: %q", problems)
		}
	})
}

// recordFS notes every path opened.
type recordFS struct {
	fs.FS
	opened map[string]bool
}

func (r recordFS) Open(name string) (fs.File, error) {
	r.opened[name] = true
	return r.FS.Open(name)
}

// mapFS is the real repodata with repomd.xml replaced and blob as a
// gzip and a zstd document beside it.
func mapFS(real map[string][]byte, repomd, blob []byte) fs.FS {
	m := fstest.MapFS{"etc/passwd": {Data: []byte("root")}}
	for p, b := range real {
		m[p] = &fstest.MapFile{Data: b}
	}
	if repomd != nil {
		m["repodata/repomd.xml"] = &fstest.MapFile{Data: repomd}
		m["repodata/fuzz.xml.gz"] = &fstest.MapFile{Data: blob}
		m["repodata/fuzz.xml.zst"] = &fstest.MapFile{Data: blob}
	}
	return m
}

// FuzzLoadIndex decodes any bytes as the saved package index of repo
// index --update: a torn one is empty, a count is believed only as far as
// the bytes go, and what decodes saves and loads back the same.
func FuzzLoadIndex(f *testing.F) {
	dir := f.TempDir()
	for _, n := range []string{"a", "b"} {
		os.WriteFile(filepath.Join(dir, n+".rpm"), fixtures.SyntheticRPM(n, "1.0", "1", 1700000000), 0o644)
	}
	inputs, _, _ := ScanDir(dir, false)
	idx := &Index{Entries: map[string]*Entry{}}
	if err := idx.Update(inputs).Err(); err != nil {
		f.Fatal(err)
	}
	saved := filepath.Join(dir, "saved.index")
	if err := idx.Save(saved); err != nil {
		f.Fatal(err)
	}
	data, _ := os.ReadFile(saved)
	f.Add(data)
	f.Add([]byte(indexMagic + "\xfe\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		before := fixtures.Allocated()
		got := parseIndex(data)
		if alloc := fixtures.Allocated() - before; alloc > uint64(64*len(data)+1<<20) {
			t.Fatalf("parsing %d bytes allocated %d", len(data), alloc)
		}
		if len(got.Entries) == 0 {
			return
		}
		path := filepath.Join(t.TempDir(), "index")
		if err := got.Save(path); err != nil {
			t.Fatal(err)
		}
		again := LoadIndex(path)
		if len(again.Entries) != len(got.Entries) {
			t.Fatalf("saved %d entries, loaded %d", len(got.Entries), len(again.Entries))
		}
		for href, e := range got.Entries {
			if a := again.Entries[href]; a == nil || *a != *e {
				t.Fatalf("entry %q changed in a save and load", href)
			}
		}
	})
}
