package compose

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	"github.com/quarrylinux/quarry/core/store"
)

// Entry is one package's repodata, ready to be concatenated: what the cache
// keeps so that an unchanged package is never read again.
type Entry struct {
	Href  string
	PkgID string
	Size  int64
	MTime int64
	// FileTime is the <time file> written: the mtime, or the build time
	// when the input asked for it (MTime -1) so repodata is reproducible.
	FileTime int64
	Name     string
	Arch     string
	NEVRA    string
	// The package's fragments of primary.xml, filelists.xml and other.xml.
	Primary, Filelists, Other string
}

// Input is an RPM to put into a repository.
type Input struct {
	Href string // location in the repository: Packages/g/greet-1.0-1.x86_64.rpm
	Path string // where to read it
	// PkgID is the file's sha256 when the caller knows it (the store does);
	// otherwise an unchanged size and mtime mean an unchanged file, as for
	// createrepo_c --update.
	PkgID string
	Size  int64
	MTime int64 // -1: use the package's build time
}

// Index is the cached metadata of one repository's packages, by href.
type Index struct {
	Entries map[string]*Entry
}

const indexMagic = "quarry-repo-index-v2\n"

// LoadIndex reads a saved index; a missing or unreadable one is empty (it
// is a cache: the worst case is reading every package again).
func LoadIndex(path string) *Index {
	data, err := os.ReadFile(path)
	if err != nil {
		return &Index{Entries: map[string]*Entry{}}
	}
	return parseIndex(data)
}

// minEntry is the fewest bytes an entry takes: eleven fields of at least
// one byte each. The count at the start is believed only that far.
const minEntry = 11

// parseIndex decodes a saved index; anything torn or foreign is empty.
func parseIndex(data []byte) *Index {
	idx := &Index{Entries: map[string]*Entry{}}
	if !bytes.HasPrefix(data, []byte(indexMagic)) {
		return idx
	}
	r := &reader{b: data[len(indexMagic):]}
	n := r.int()
	entries := make(map[string]*Entry, max(0, min(n, int64(len(r.b)/minEntry))))
	for i := int64(0); i < n && r.err == nil; i++ {
		e := &Entry{Href: r.str(), PkgID: r.str(), Size: r.int(), MTime: r.int(), FileTime: r.int(),
			Name: r.str(), Arch: r.str(), NEVRA: r.str(), Primary: r.str(), Filelists: r.str(), Other: r.str()}
		entries[e.Href] = e
	}
	if r.err != nil {
		return idx
	}
	idx.Entries = entries
	return idx
}

// Save writes the index aside and renames it into place, unsynced: after
// a crash a torn index reads as empty and the packages are read again. The
// format is length-prefixed fields: a
// 10,000-package index saves and loads in tens of milliseconds.
func (idx *Index) Save(path string) error {
	size := len(indexMagic) + 16
	for _, e := range idx.Entries {
		size += 100 + len(e.Href) + len(e.PkgID) + len(e.Name) + len(e.Arch) + len(e.NEVRA) + len(e.Primary) + len(e.Filelists) + len(e.Other)
	}
	b := make([]byte, 0, size)
	b = append(b, indexMagic...)
	b = binary.AppendVarint(b, int64(len(idx.Entries)))
	for _, e := range idx.Entries {
		for _, f := range []any{e.Href, e.PkgID, e.Size, e.MTime, e.FileTime, e.Name, e.Arch, e.NEVRA, e.Primary, e.Filelists, e.Other} {
			switch v := f.(type) {
			case string:
				b = binary.AppendUvarint(b, uint64(len(v)))
				b = append(b, v...)
			case int64:
				b = binary.AppendVarint(b, v)
			}
		}
	}
	return store.WriteCache(path, b)
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errors.New("torn index")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string {
	l, n := binary.Uvarint(r.b)
	if n <= 0 || uint64(len(r.b)-n) < l {
		r.err = errors.New("torn index")
		return ""
	}
	s := string(r.b[n : n+int(l)])
	r.b = r.b[n+int(l):]
	return s
}

// DuplicateError is two RPMs with the same name, epoch, version, release
// and arch in one repository: dnf could install either.
type DuplicateError struct {
	NEVRA string
	Files [2]string
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("%s and %s are the same package %s", e.Files[0], e.Files[1], e.NEVRA)
}

// Update makes the index hold exactly inputs, reading only the RPMs that
// are new or changed (in parallel), and returns the entries sorted by href
// and how many were read.
func (idx *Index) Update(inputs []Input) ([]*Entry, int, error) {
	next := make(map[string]*Entry, len(inputs))
	var todo []Input
	for _, in := range inputs {
		if e, ok := idx.Entries[in.Href]; ok && e.matches(in) {
			next[in.Href] = e
			continue
		}
		todo = append(todo, in)
	}
	read := make([]*Entry, len(todo))
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				read[i], errs[i] = readEntry(todo[i])
			}
		}()
	}
	for i := range todo {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	for _, e := range read {
		next[e.Href] = e
	}
	out := make([]*Entry, 0, len(next))
	for _, e := range next {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Href < out[j].Href })
	byNEVRA := make(map[string]string, len(out))
	for _, e := range out {
		if other, ok := byNEVRA[e.NEVRA]; ok {
			return nil, 0, &DuplicateError{NEVRA: e.NEVRA, Files: [2]string{other, e.Href}}
		}
		byNEVRA[e.NEVRA] = e.Href
	}
	idx.Entries = next
	return out, len(todo), nil
}

func (e *Entry) matches(in Input) bool {
	if in.PkgID != "" {
		return e.PkgID == in.PkgID && e.MTime == in.MTime
	}
	return e.Size == in.Size && e.MTime == in.MTime
}

func readEntry(in Input) (*Entry, error) {
	data, err := os.ReadFile(in.Path)
	if err != nil {
		return nil, err
	}
	p, err := Read(in.Path, data, in.Href, in.MTime)
	if err != nil {
		return nil, err
	}
	if in.PkgID != "" && p.PkgID != in.PkgID {
		return nil, fmt.Errorf("%s: sha256 is %s, expected %s", in.Path, p.PkgID, in.PkgID)
	}
	return &Entry{
		Href: in.Href, PkgID: p.PkgID, Size: int64(len(data)), MTime: in.MTime, FileTime: p.FileTime,
		Name: p.Name, Arch: p.Arch, NEVRA: p.NEVRA(),
		Primary: primaryXML(p), Filelists: filelistsXML(p), Other: otherXML(p),
	}, nil
}

// ScanDir lists the RPMs under dir (skipping repodata) as inputs, with
// hrefs relative to dir.
func ScanDir(dir string) ([]Input, error) {
	var out []Input
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && (d.Name() == "repodata" || d.Name()[0] == '.') {
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.Ext(path) != ".rpm" || !d.Type().IsRegular() {
			return nil
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		out = append(out, Input{Href: filepath.ToSlash(rel), Path: path, Size: st.Size(), MTime: st.ModTime().Unix()})
		return nil
	})
	return out, err
}
