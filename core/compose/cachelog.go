package compose

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"slices"
	"unsafe"

	"github.com/quarrylinux/quarry/core/store"
)

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
const indexMagic = "quarry-repo-index-v4\n" // v4: change stamps

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
		if n <= 0 || l < 1 || l > uint64(len(rest)-n) || uint64(len(rest)-n)-l < 4 { // no l+4: it may wrap
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
			*e = Entry{Href: r.str(), PkgID: r.str(), Size: r.int(), MTime: r.int(), Stamp: r.int(), FileTime: r.int(),
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
	w.int(e.Stamp)
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
	return store.WriteCacheFunc(path, func(f io.Writer) error {
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
