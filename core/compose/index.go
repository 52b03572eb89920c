package compose

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"unsafe"
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
	// spans are the compressed spans of the gzip metadata last written.
	spans map[spanKey][]byte
	// base is what was loaded from the file Save may append to.
	base *savedIndex
}

// savedIndex is an index file as loaded: Save appends to it what changed
// when it is still that file and not mostly garbage.
type savedIndex struct {
	info    os.FileInfo
	size    int64
	entries map[string]*Entry
	spans   map[spanKey][]byte
}

// The index file is the magic, then records: a uvarint length, the
// payload (a kind byte and its fields) and the payload's CRC-32. Later
// records win: an entry replaces the one of its href, a deletion drops
// it; spans are added. A run that changes a few packages appends their
// records; one whose file would be more than half garbage rewrites it.
const indexMagic = "quarry-repo-index-v3\n"

const (
	recEntry  = 'E'
	recDelete = 'D'
	recSpan   = 'S'
)

// LoadIndex reads a saved index; a missing or unreadable one is empty (it
// is a cache: the worst case is reading every package again).
func LoadIndex(path string) *Index {
	data, err := os.ReadFile(path)
	if err != nil {
		return &Index{Entries: map[string]*Entry{}}
	}
	idx := parseIndex(data)
	if idx.base != nil {
		if st, err := os.Stat(path); err == nil && st.Size() == idx.base.size {
			idx.base.info = st
		}
	}
	return idx
}

// parseIndex decodes a saved index: a foreign one is empty, and a torn
// record ends it (what came before stands; the next Save rewrites it).
func parseIndex(data []byte) *Index {
	idx := &Index{Entries: map[string]*Entry{}}
	if !bytes.HasPrefix(data, []byte(indexMagic)) {
		return idx
	}
	entries := make(map[string]*Entry, len(data)/2048)
	spans := map[spanKey][]byte{}
	all := make([]Entry, 0, len(data)/2048)
	rest := data[len(indexMagic):]
	torn := false
	for len(rest) > 0 {
		l, n := binary.Uvarint(rest)
		if n <= 0 || l < 1 || uint64(len(rest)-n) < l+4 {
			torn = true
			break
		}
		payload := rest[n : n+int(l)]
		if crc32.ChecksumIEEE(payload) != binary.LittleEndian.Uint32(rest[n+int(l):]) {
			torn = true
			break
		}
		rest = rest[n+int(l)+4:]
		r := &reader{b: payload[1:]}
		switch payload[0] {
		case recEntry:
			var e *Entry
			if len(all) < cap(all) {
				all = append(all, Entry{})
				e = &all[len(all)-1]
			} else {
				e = &Entry{}
			}
			*e = Entry{Href: r.str(), PkgID: r.str(), Size: r.int(), MTime: r.int(), FileTime: r.int(),
				Name: r.str(), Arch: r.str(), NEVRA: r.str(), Primary: r.str(), Filelists: r.str(), Other: r.str()}
			if r.err == nil {
				entries[e.Href] = e
			}
		case recDelete:
			if href := r.str(); r.err == nil {
				delete(entries, href)
			}
		case recSpan:
			k, data := r.str(), r.str()
			if r.err == nil && len(k) == len(spanKey{}) {
				spans[spanKey([]byte(k))] = unsafeBytes(data)
			}
		default:
			r.err = errors.New("unknown record")
		}
		if r.err != nil || len(r.b) != 0 {
			torn = true
			break
		}
	}
	idx.Entries, idx.spans = entries, spans
	if !torn {
		idx.base = &savedIndex{size: int64(len(data)), entries: maps.Clone(entries), spans: spans}
	}
	return idx
}

// recorder appends records to a buffer.
type recorder struct{ b, p []byte }

func (w *recorder) begin(kind byte) { w.p = append(w.p[:0], kind) }
func (w *recorder) int(v int64)     { w.p = binary.AppendVarint(w.p, v) }
func (w *recorder) str(v string) {
	w.p = binary.AppendUvarint(w.p, uint64(len(v)))
	w.p = append(w.p, v...)
}
func (w *recorder) end() {
	w.b = binary.AppendUvarint(w.b, uint64(len(w.p)))
	w.b = append(w.b, w.p...)
	w.b = binary.LittleEndian.AppendUint32(w.b, crc32.ChecksumIEEE(w.p))
}

func (w *recorder) entry(e *Entry) {
	w.begin(recEntry)
	w.str(e.Href)
	w.str(e.PkgID)
	w.int(e.Size)
	w.int(e.MTime)
	w.int(e.FileTime)
	w.str(e.Name)
	w.str(e.Arch)
	w.str(e.NEVRA)
	w.str(e.Primary)
	w.str(e.Filelists)
	w.str(e.Other)
	w.end()
}

func (w *recorder) span(k spanKey, s []byte) {
	w.begin(recSpan)
	w.str(string(k[:]))
	w.str(unsafe.String(unsafe.SliceData(s), len(s)))
	w.end()
}

// Save records the index, unsynced: after a crash a torn record ends the
// index there, and the packages after it are read again. When the file is
// the one loaded and would stay mostly live, only what changed is
// appended; otherwise the whole index is written aside and renamed into
// place.
func (idx *Index) Save(path string) error {
	if idx.base != nil && idx.base.info != nil {
		if done, err := idx.appendTo(path); done || err != nil {
			return err
		}
	}
	return writeCacheStream(path, func(f io.Writer) error {
		bw := bufio.NewWriterSize(f, 1<<20)
		bw.WriteString(indexMagic)
		var w recorder
		flush := func() {
			bw.Write(w.b)
			w.b = w.b[:0]
		}
		// In href order, so that a loaded index lies in memory in the
		// order the documents are hashed in.
		for _, href := range slices.Sorted(maps.Keys(idx.Entries)) {
			w.entry(idx.Entries[href])
			flush()
		}
		for k, s := range idx.spans {
			w.span(k, s)
			flush()
		}
		return bw.Flush()
	})
}

// appendTo appends the changes since the index was loaded, when that is
// worth it; done says whether it did.
func (idx *Index) appendTo(path string) (done bool, err error) {
	var w recorder
	live := int64(len(indexMagic))
	for href, e := range idx.Entries {
		live += int64(len(e.Primary) + len(e.Filelists) + len(e.Other) + 128)
		if idx.base.entries[href] != e {
			w.entry(e)
		}
	}
	for href := range idx.base.entries {
		if _, ok := idx.Entries[href]; !ok {
			w.begin(recDelete)
			w.str(href)
			w.end()
		}
	}
	for k, s := range idx.spans {
		live += int64(len(s) + 40)
		if idx.base.spans[k] == nil {
			w.span(k, s)
		}
	}
	if idx.base.size+int64(len(w.b)) > 2*live+1<<20 {
		return false, nil
	}
	if len(w.b) == 0 {
		return true, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return false, nil
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !os.SameFile(st, idx.base.info) || st.Size() != idx.base.size {
		return false, nil // another run changed it: rewrite
	}
	if _, err := f.Write(w.b); err != nil {
		return true, err
	}
	return true, f.Close()
}

// writeCacheStream is store.WriteCache for content written by write.
func writeCacheStream(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
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
	// The strings share the loaded file's bytes, which nothing changes.
	s := unsafe.String(unsafe.SliceData(r.b[n:]), int(l))
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
	for w := 0; w < workers(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := range work {
				read[i], errs[i] = readEntry(todo[i], &buf)
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
	return e.Size == in.Size && e.MTime == in.MTime
}

// readEntry reads one package; buf is the worker's to reuse, as nothing
// read from the file keeps its bytes.
func readEntry(in Input, buf *[]byte) (*Entry, error) {
	data, err := readFile(in.Path, in.Size, buf)
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
	return s.inputs, s.bad, s.stat()
}

type scan struct {
	root      string
	skipLinks bool
	seen      map[[2]uint64]bool // folders by device and inode
	inputs    []Input
	bad       []*PackageError
	unstated  []int // inputs whose size and mtime stat fills in
}

// stat fills in the sizes and mtimes of the inputs found as files, several
// at once.
func (s *scan) stat() error {
	errs := make([]error, workers())
	var wg sync.WaitGroup
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(s.unstated); i += len(errs) {
				in := &s.inputs[s.unstated[i]]
				st, err := os.Lstat(in.Path)
				if err != nil {
					errs[w] = err
					return
				}
				in.Size, in.MTime = st.Size(), st.ModTime().Unix()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
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
			in := Input{Href: s.href(path), Path: path}
			if st != nil {
				in.Size, in.MTime = st.Size(), st.ModTime().Unix()
			} else {
				s.unstated = append(s.unstated, len(s.inputs))
			}
			s.inputs = append(s.inputs, in)
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
