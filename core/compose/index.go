package compose

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Entry is one package's repodata, ready to be concatenated: what the cache
// keeps so that an unchanged package is never read again.
type Entry struct {
	Href  string
	PkgID string
	Size  int64
	MTime int64
	// Stamp is the file's change stamp when it was read (Input.Stamp).
	Stamp int64
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
	// Stamp is the file's mtime and ctime in nanoseconds, folded: a file
	// rewritten within the second of the last index, with the same size,
	// still reads as changed (createrepo_c --update misses it). 0: unknown.
	Stamp int64
}

// Index is the cached metadata of one repository's packages, by href.
type Index struct {
	Entries map[string]*Entry
	// Lenient indexes a package whose text holds control characters,
	// without them, rather than refuse it as createrepo_c does: the
	// core's compose, where the text is upstream's and one character must
	// not fail the distribution.
	Lenient bool
	// spans are the compressed spans of the gzip metadata last written.
	spans map[spanKey][]byte
	// base is what was loaded from the file Save may append to.
	base *savedIndex
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
	for w := 0; w < workers(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range work {
				read[i], errs[i] = readEntry(todo[i], idx.Lenient, &buf)
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
	// In href order: the order inputs usually come in already.
	res.Entries = make([]*Entry, 0, len(next))
	for _, in := range inputs {
		if e := next[in.Href]; e != nil {
			res.Entries = append(res.Entries, e)
		}
	}
	byHref := func(a, b *Entry) int { return strings.Compare(a.Href, b.Href) }
	if !slices.IsSortedFunc(res.Entries, byHref) {
		slices.SortFunc(res.Entries, byHref)
	}
	res.Entries = slices.CompactFunc(res.Entries, func(a, b *Entry) bool { return a == b })
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
	return e.Size == in.Size && e.MTime == in.MTime && e.Stamp == in.Stamp
}

// readEntry reads one package; buf is the worker's to reuse, as nothing
// read from the file keeps its bytes.
func readEntry(in Input, lenient bool, buf *[]byte) (*Entry, error) {
	data, err := readFile(in.Path, in.Size, buf)
	if err != nil {
		return nil, err
	}
	p, err := readPackage(in.Path, data, in.Href, in.MTime)
	if err != nil {
		return nil, err
	}
	if err := p.checkText(); err != nil && !lenient {
		return nil, fmt.Errorf("%s: %w", in.Path, err)
	}
	if in.PkgID != "" && p.PkgID != in.PkgID {
		return nil, fmt.Errorf("%s: sha256 is %s, expected %s", in.Path, p.PkgID, in.PkgID)
	}
	return &Entry{
		Href: in.Href, PkgID: p.PkgID, Size: int64(len(data)), MTime: in.MTime, Stamp: in.Stamp, FileTime: p.FileTime,
		Name: p.Name, Arch: p.Arch, NEVRA: p.NEVRA(),
		Primary: primaryXML(p), Filelists: filelistsXML(p), Other: otherXML(p),
	}, nil
}

// workers is how many files are read at once: twice the cores, so that
// one blocked in a system call leaves its core to another.
func workers() int { return 2 * runtime.GOMAXPROCS(0) }

// readFile reads path into *buf, grown as needed; size is a hint.
func readFile(path string, size int64, buf *[]byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if want := int(size) + 512; cap(*buf) < want {
		*buf = make([]byte, 0, want)
	}
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	*buf = b
	return b, nil
}
