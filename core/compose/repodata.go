package compose

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sync/errgroup"

	"github.com/quarrylinux/quarry/core/store"
)

// Compression of the metadata files.
const (
	Gzip = "gz"
	Zstd = "zst"
)

// Options shape the repodata.
type Options struct {
	// Compression is Gzip (the default, what every dnf reads) or Zstd.
	Compression string
	// Revision is repomd.xml's revision and the files' timestamp. Zero
	// means the newest package mtime, so that the same packages give
	// byte-identical repodata.
	Revision int64
	// Comps, when set, is a comps.xml document published as "group".
	Comps []byte
	// spans, when set, keeps compressed spans between runs.
	spans *spanCache
}

// Record is one <data> entry of repomd.xml.
type Record struct {
	Type         string
	Href         string
	Checksum     string
	OpenChecksum string
	Size         int64
	OpenSize     int64
	Timestamp    int64
}

// WriteRepodata writes dir/repodata for entries: it is assembled in a
// sibling folder and renamed into place, so readers see the old or the
// new repodata, never a mix. It returns repomd.xml's bytes.
func WriteRepodata(dir string, entries []*Entry, opts Options) ([]byte, error) {
	if opts.Compression == "" {
		opts.Compression = Gzip
	}
	if opts.Compression != Gzip && opts.Compression != Zstd {
		return nil, fmt.Errorf("compression %q: use gz or zst", opts.Compression)
	}
	if opts.Revision == 0 {
		for _, e := range entries {
			opts.Revision = max(opts.Revision, e.FileTime)
		}
		if opts.Revision == 0 {
			opts.Revision = time.Now().Unix()
		}
	}
	tmp, err := os.MkdirTemp(dir, ".repodata-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	kinds := []string{"primary", "filelists", "other"}
	var records []Record
	if opts.Compression == Gzip {
		if records, err = writeGzipSpans(tmp, kinds, entries, opts, opts.spans); err != nil {
			return nil, err
		}
	} else {
		records = make([]Record, len(kinds))
		var g errgroup.Group
		for i, kind := range kinds {
			g.Go(func() error {
				doc := document(kind, entries)
				r, err := writeCompressed(tmp, kind, kind+".xml", doc, opts)
				records[i] = r
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
	}
	if opts.Comps != nil {
		r, err := writePlain(tmp, "group", "comps.xml", opts.Comps, opts.Revision)
		if err != nil {
			return nil, err
		}
		rz, err := writeCompressed(tmp, "group_"+opts.Compression, "comps.xml", opts.Comps, opts)
		if err != nil {
			return nil, err
		}
		records = append(records, r, rz)
	}
	repomd := repomdXML(opts.Revision, records)
	if err := os.WriteFile(filepath.Join(tmp, "repomd.xml"), repomd, 0o644); err != nil {
		return nil, err
	}
	stamp := time.Unix(opts.Revision, 0)
	names, _ := os.ReadDir(tmp)
	for _, n := range names {
		os.Chtimes(filepath.Join(tmp, n.Name()), stamp, stamp)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	final := filepath.Join(dir, "repodata")
	old := final + ".old"
	os.RemoveAll(old)
	if err := os.Rename(final, old); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return nil, err
	}
	os.RemoveAll(old)
	return repomd, nil
}

func document(kind string, entries []*Entry) []byte {
	size := 128
	for _, e := range entries {
		size += len(fragment(kind, e))
	}
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString(docHead(kind, len(entries)))
	for _, e := range entries {
		b.WriteString(fragment(kind, e))
	}
	b.WriteString(docTail(kind))
	return b.Bytes()
}

func fragment(kind string, e *Entry) string {
	switch kind {
	case "primary":
		return e.Primary
	case "filelists":
		return e.Filelists
	}
	return e.Other
}

// writeCompressed writes <checksum>-<base>.<ext>, named by the compressed
// file's checksum as createrepo_c's unique file names are.
func writeCompressed(dir, typ, base string, doc []byte, opts Options) (Record, error) {
	var buf bytes.Buffer
	var w io.WriteCloser
	switch opts.Compression {
	case Zstd:
		z, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
		if err != nil {
			return Record{}, err
		}
		w = z
	default:
		// Level 1 keeps a 10,000-package update well under a second; the
		// files are about a fifth larger than at gzip's default level.
		z, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		if err != nil {
			return Record{}, err
		}
		z.ModTime = time.Unix(opts.Revision, 0)
		w = z
	}
	if _, err := w.Write(doc); err != nil {
		return Record{}, err
	}
	if err := w.Close(); err != nil {
		return Record{}, err
	}
	sum := store.Digest(buf.Bytes())
	name := sum + "-" + base + "." + opts.Compression
	if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
		return Record{}, err
	}
	return Record{
		Type: typ, Href: "repodata/" + name, Checksum: sum, OpenChecksum: store.Digest(doc),
		Size: int64(buf.Len()), OpenSize: int64(len(doc)), Timestamp: opts.Revision,
	}, nil
}

func writePlain(dir, typ, base string, data []byte, stamp int64) (Record, error) {
	sum := store.Digest(data)
	name := sum + "-" + base
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		return Record{}, err
	}
	return Record{Type: typ, Href: "repodata/" + name, Checksum: sum, Size: int64(len(data)), Timestamp: stamp}, nil
}

func repomdXML(revision int64, records []Record) []byte {
	var w writer
	w.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	w.WriteString("<repomd xmlns=\"" + nsRepo + "\" xmlns:rpm=\"" + nsRPM + "\">\n")
	w.WriteString("  <revision>" + strconv.FormatInt(revision, 10) + "</revision>\n")
	for _, r := range records {
		w.WriteString("  <data type=\"" + r.Type + "\">\n")
		w.WriteString("    <checksum type=\"sha256\">" + r.Checksum + "</checksum>\n")
		if r.OpenChecksum != "" {
			w.WriteString("    <open-checksum type=\"sha256\">" + r.OpenChecksum + "</open-checksum>\n")
		}
		w.WriteString("    <location")
		w.attr("href", r.Href)
		w.WriteString("/>\n")
		w.WriteString("    <timestamp>" + itoa(r.Timestamp) + "</timestamp>\n")
		w.WriteString("    <size>" + itoa(r.Size) + "</size>\n")
		if r.OpenChecksum != "" {
			w.WriteString("    <open-size>" + itoa(r.OpenSize) + "</open-size>\n")
		}
		w.WriteString("  </data>\n")
	}
	w.WriteString("</repomd>\n")
	return []byte(w.String())
}
