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
	"strings"
	"sync"
	"syscall"

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

// PackageError is an RPM that could not be indexed: unreadable, corrupt,
// or with header text no repodata may hold.
type PackageError struct {
	Href string
	Err  error
}

func (e *PackageError) Error() string { return e.Err.Error() }
func (e *PackageError) Unwrap() error { return e.Err }

// Updated is what Index.Update found.
type Updated struct {
	// Entries are the packages indexed, sorted by href.
	Entries []*Entry
	// Read is how many RPMs were read (new or changed).
	Read int
	// Bad are the inputs that could not be indexed, by href; they are not
	// in Entries, and their old entries are dropped.
	Bad []*PackageError
}

// Duplicates groups the entries that share a NEVRA, each group sorted by
// href; packages with a NEVRA of their own are left out.
func Duplicates(entries []*Entry) [][]*Entry {
	by := map[string][]*Entry{}
	for _, e := range entries {
		by[e.NEVRA] = append(by[e.NEVRA], e)
	}
	var out [][]*Entry
	for _, e := range entries { // entries are sorted: so are the groups
		if g := by[e.NEVRA]; len(g) > 1 && g[0] == e {
			out = append(out, g)
		}
	}
	return out
}

// Update makes the index hold exactly inputs, reading only the RPMs that
// are new or changed (in parallel). An input that cannot be read is
// reported in Bad, not an error: the caller decides whether that fails
// the whole repository.
func (idx *Index) Update(inputs []Input) *Updated {
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
	res := &Updated{Read: len(todo)}
	for i, e := range read {
		if errs[i] != nil {
			res.Bad = append(res.Bad, &PackageError{Href: todo[i].Href, Err: errs[i]})
			continue
		}
		next[e.Href] = e
	}
	sort.Slice(res.Bad, func(i, j int) bool { return res.Bad[i].Href < res.Bad[j].Href })
	res.Entries = make([]*Entry, 0, len(next))
	for _, e := range next {
		res.Entries = append(res.Entries, e)
	}
	sort.Slice(res.Entries, func(i, j int) bool { return res.Entries[i].Href < res.Entries[j].Href })
	idx.Entries = next
	return res
}

// Err is every bad input as one error, or nil.
func (u *Updated) Err() error {
	errs := make([]error, len(u.Bad))
	for i, b := range u.Bad {
		errs[i] = b
	}
	return errors.Join(errs...)
}

// Unique is the first duplicate NEVRA as an error, or nil: a repository
// Quarry composes holds one file per package.
func (u *Updated) Unique() error {
	if d := Duplicates(u.Entries); len(d) > 0 {
		return &DuplicateError{NEVRA: d[0][0].NEVRA, Files: [2]string{d[0][0].Href, d[0][1].Href}}
	}
	return nil
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

// ScanDir lists the RPMs under dir (skipping repodata and dot folders) as
// inputs, with hrefs relative to dir. Symbolic links are followed, to files
// and to folders, as createrepo_c follows them, unless skipLinks; the href
// is the link's place in dir, and a folder reached twice (a loop) is read
// once. A *.rpm that cannot be stat'ed (a dangling link) is a bad input.
func ScanDir(dir string, skipLinks bool) ([]Input, []*PackageError, error) {
	s := &scan{root: dir, skipLinks: skipLinks, seen: map[[2]uint64]bool{}}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, nil, err
	}
	s.visit(st)
	if err := s.walk(dir); err != nil {
		return nil, nil, err
	}
	return s.inputs, s.bad, nil
}

type scan struct {
	root      string
	skipLinks bool
	seen      map[[2]uint64]bool // folders by device and inode
	inputs    []Input
	bad       []*PackageError
}

// visit marks a folder seen and says whether it was new.
func (s *scan) visit(st os.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	id := [2]uint64{uint64(sys.Dev), sys.Ino}
	if s.seen[id] {
		return false
	}
	s.seen[id] = true
	return true
}

func (s *scan) walk(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, d := range entries {
		path := filepath.Join(dir, d.Name())
		mode := d.Type()
		var st os.FileInfo
		if mode&os.ModeSymlink != 0 {
			if s.skipLinks {
				continue
			}
			if st, err = os.Stat(path); err != nil {
				if strings.HasSuffix(d.Name(), ".rpm") {
					s.bad = append(s.bad, &PackageError{Href: s.href(path), Err: fmt.Errorf("%s: %w", path, err)})
				}
				continue
			}
			mode = st.Mode().Type()
		}
		switch {
		case mode.IsDir():
			if d.Name() == "repodata" || d.Name()[0] == '.' {
				continue
			}
			if st == nil {
				if st, err = os.Stat(path); err != nil {
					return err
				}
			}
			if !s.visit(st) {
				continue
			}
			if err := s.walk(path); err != nil {
				return err
			}
		case mode.IsRegular() && strings.HasSuffix(d.Name(), ".rpm"):
			if st == nil {
				if st, err = d.Info(); err != nil {
					return err
				}
			}
			s.inputs = append(s.inputs, Input{Href: s.href(path), Path: path, Size: st.Size(), MTime: st.ModTime().Unix()})
		}
	}
	return nil
}

func (s *scan) href(path string) string {
	rel, err := filepath.Rel(s.root, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}
