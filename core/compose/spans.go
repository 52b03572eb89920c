package compose

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"unsafe"

	"github.com/klauspost/compress/flate"
)

// A gzip document is one gzip member whose deflate stream is spans of
// packages compressed independently, each ended by a sync flush (as
// pigz -i writes them): any gzip reader reads one stream. A span's bytes
// depend only on its packages, so an update compresses only the spans
// with a changed package, and a full index compresses on every core.

// A span starts at a package whose href hashes to 0 modulo spanAvg (so
// that adding or removing a package changes one span, not every later
// one), or after spanMax packages.
const (
	spanAvg = 256
	spanMax = 4 * spanAvg
)

// spanKey names one kind's compressed span of some packages.
type spanKey [sha256.Size]byte

// spanCache is the spans of the last run (old) and of this one (used,
// what is saved).
type spanCache struct {
	mu        sync.Mutex
	old, used map[spanKey][]byte
}

func (c *spanCache) get(k spanKey) []byte {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.old[k]
	if s != nil {
		c.used[k] = s
	}
	return s
}

func (c *spanCache) put(k spanKey, s []byte) {
	if c != nil {
		c.mu.Lock()
		c.used[k] = s
		c.mu.Unlock()
	}
}

// spanKeys splits entries into spans and names each kind's: the kind and
// each package's href, sha256, file time and fragments' lengths and CRCs.
func spanKeys(kinds []string, entries []*Entry) (runs [][2]int, keys [][]spanKey) {
	start := 0
	for i := 1; i <= len(entries); i++ {
		if i == len(entries) || i-start >= spanMax || fnv32(entries[i].Href)%spanAvg == 0 {
			runs = append(runs, [2]int{start, i})
			start = i
		}
	}
	keys = make([][]spanKey, len(kinds))
	for k := range kinds {
		keys[k] = make([]spanKey, len(runs))
	}
	parallel(len(runs), func(r int) {
		h := sha256.New()
		var b []byte
		for _, e := range entries[runs[r][0]:runs[r][1]] {
			b = append(append(append(b[:0], e.Href...), 0), e.PkgID...)
			b = binary.AppendVarint(b, e.FileTime)
			// The fragments' CRCs too: a cached entry written by another
			// version of the XML writer must not meet its old spans.
			for _, f := range []string{e.Primary, e.Filelists, e.Other} {
				b = binary.AppendUvarint(b, uint64(len(f)))
				b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(unsafeBytes(f)))
			}
			h.Write(b)
		}
		id := h.Sum(nil)
		for k, kind := range kinds {
			keys[k][r] = sha256.Sum256(append([]byte("quarry-span-v2\x00"+kind+"\x00"), id...))
		}
	})
	return runs, keys
}

func fnv32(s string) uint32 {
	h := fnv.New32a()
	h.Write(unsafeBytes(s))
	return h.Sum32()
}

// parallel runs f(0..n-1) on every core.
func parallel(n int, f func(int)) {
	var wg sync.WaitGroup
	w := runtime.GOMAXPROCS(0)
	for i := 0; i < w; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := i; j < n; j += w {
				f(j)
			}
		}()
	}
	wg.Wait()
}

var flatePool = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// deflate compresses parts as raw deflate ending in a sync flush, or in
// the final block when last.
func deflate(last bool, parts ...string) []byte {
	var buf bytes.Buffer
	w := flatePool.Get().(*flate.Writer)
	w.Reset(&buf)
	for _, p := range parts {
		w.Write(unsafeBytes(p))
	}
	if last {
		w.Close()
	} else {
		w.Flush()
	}
	flatePool.Put(w)
	return buf.Bytes()
}

// writeGzipSpans writes the gzip documents of kinds from spans: cached
// ones where the cache has them, the others compressed on every core
// while each document's open checksum and CRC are computed.
func writeGzipSpans(dir string, kinds []string, entries []*Entry, opts Options, cache *spanCache) ([]Record, error) {
	type sums struct {
		sha  string
		crc  uint32
		size int64
	}
	open := make([]sums, len(kinds))
	var hashed sync.WaitGroup
	for k, kind := range kinds {
		hashed.Add(1)
		go func() {
			defer hashed.Done()
			sh, cr := sha256.New(), crc32.NewIEEE()
			var n int64
			write := func(s string) {
				sh.Write(unsafeBytes(s))
				cr.Write(unsafeBytes(s))
				n += int64(len(s))
			}
			write(docHead(kind, len(entries)))
			for _, e := range entries {
				write(fragment(kind, e))
			}
			write(docTail(kind))
			open[k] = sums{hex.EncodeToString(sh.Sum(nil)), cr.Sum32(), n}
		}()
	}
	runs, keys := spanKeys(kinds, entries)
	parts := make([][][]byte, len(kinds))
	var todo [][2]int // kind, run
	for k := range kinds {
		parts[k] = make([][]byte, len(runs))
		for r := range runs {
			if parts[k][r] = cache.get(keys[k][r]); parts[k][r] == nil {
				todo = append(todo, [2]int{k, r})
			}
		}
	}
	parallel(len(todo), func(i int) {
		k, r := todo[i][0], todo[i][1]
		var frags []string
		for _, e := range entries[runs[r][0]:runs[r][1]] {
			frags = append(frags, fragment(kinds[k], e))
		}
		parts[k][r] = deflate(false, frags...)
		cache.put(keys[k][r], parts[k][r])
	})
	hashed.Wait()
	records := make([]Record, len(kinds))
	errs := make([]error, len(kinds))
	parallel(len(kinds), func(k int) {
		records[k], errs[k] = writeGzipFile(dir, kinds[k], parts[k], opts, open[k].sha, open[k].crc, open[k].size, len(entries))
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return records, nil
}

func writeGzipFile(dir, kind string, parts [][]byte, opts Options, openSum string, crc uint32, openSize int64, n int) (Record, error) {
	f, err := os.CreateTemp(dir, ".tmp-"+kind+"-")
	if err != nil {
		return Record{}, err
	}
	defer os.Remove(f.Name())
	sh := sha256.New()
	bw := bufio.NewWriterSize(f, 1<<20)
	var size int64
	put := func(b []byte) {
		sh.Write(b)
		bw.Write(b)
		size += int64(len(b))
	}
	// The header compress/gzip writes at BestSpeed: the revision as
	// mtime, XFL 4 (fastest), OS unknown.
	head := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 0xff}
	binary.LittleEndian.PutUint32(head[4:], uint32(opts.Revision))
	put(head)
	put(deflate(false, docHead(kind, n)))
	for _, p := range parts {
		put(p)
	}
	put(deflate(true, docTail(kind)))
	put(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, crc), uint32(openSize)))
	if err := bw.Flush(); err != nil {
		f.Close()
		return Record{}, err
	}
	if err := f.Close(); err != nil {
		return Record{}, err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return Record{}, err
	}
	sum := hex.EncodeToString(sh.Sum(nil))
	name := sum + "-" + kind + ".xml." + Gzip
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return Record{}, err
	}
	return Record{Type: kind, Href: "repodata/" + name, Checksum: sum, OpenChecksum: openSum,
		Size: size, OpenSize: openSize, Timestamp: opts.Revision}, nil
}

// unsafeBytes is s as bytes, for writers that only read them.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
