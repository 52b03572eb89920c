package compose

import (
	"bufio"
	"encoding/gob"
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

const indexVersion = 1

// LoadIndex reads a saved index; a missing or unreadable one is empty (it
// is a cache: the worst case is reading every package again).
func LoadIndex(path string) *Index {
	idx := &Index{Entries: map[string]*Entry{}}
	f, err := os.Open(path)
	if err != nil {
		return idx
	}
	defer f.Close()
	dec := gob.NewDecoder(bufio.NewReader(f))
	var v int
	if dec.Decode(&v) != nil || v != indexVersion {
		return idx
	}
	var saved Index
	if dec.Decode(&saved) != nil || saved.Entries == nil {
		return idx
	}
	return &saved
}

// Save writes the index aside and renames it into place.
func (idx *Index) Save(path string) error {
	var buf bufferWriter
	enc := gob.NewEncoder(&buf)
	if err := enc.Encode(indexVersion); err != nil {
		return err
	}
	if err := enc.Encode(idx); err != nil {
		return err
	}
	return store.WriteFile(path, buf.b, 0o644)
}

type bufferWriter struct{ b []byte }

func (w *bufferWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

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
