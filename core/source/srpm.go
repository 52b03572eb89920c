package source

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/cavaliergopher/cpio"
	"github.com/cavaliergopher/rpm"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/quarrylinux/quarry/core/store"
)

// Signature and header tags used to check an SRPM's digests.
const (
	sigTagSize          = 1000
	sigTagMD5           = 1004
	sigTagSHA1          = 269
	sigTagSHA256        = 273
	tagPayloadDigest    = 5092
	tagPayloadDigestAlg = 5093
	tagSourcePackage    = 1106
)

// SRPM is a source package read from its file, checked, and unpacked.
type SRPM struct {
	Name, Version, Release string
	Epoch                  int
	// Tree holds the spec under SPECS/ and the rest under SOURCES/;
	// archives are marked lookaside.
	Tree store.Tree
}

// ReadSRPM checks an SRPM's digests and unpacks its payload (cpio, with
// gzip, bzip2, xz or zstd compression) without running any rpm tool. name
// is the file's name, for messages.
func ReadSRPM(name string, data []byte) (*SRPM, error) {
	fail := func(format string, args ...any) (*SRPM, error) {
		return nil, fmt.Errorf("SRPM %s: %s", name, fmt.Sprintf(format, args...))
	}
	r := bytes.NewReader(data)
	pkg, err := rpm.Read(r)
	if err != nil {
		return fail("not a readable RPM: %v", err)
	}
	if t := pkg.Header.GetTag(tagSourcePackage); t == nil && pkg.Lead.Type != 1 {
		return fail("is a binary RPM, not a source RPM")
	}
	start, end := pkg.HeaderRange()
	if end > len(data) {
		return fail("truncated inside its header")
	}
	header, payload := data[start:end], data[end:]
	if err := checkDigests(pkg, header, payload); err != nil {
		return fail("%v", err)
	}
	files, err := unpack(pkg.PayloadCompression(), payload)
	if err != nil {
		return fail("payload: %v", err)
	}
	s := &SRPM{Name: pkg.Name(), Version: pkg.Version(), Release: pkg.Release(), Epoch: pkg.Epoch(), Tree: store.Tree{}}
	specs := 0
	for p, f := range files {
		if strings.Contains(p, "/") {
			return fail("payload file %s is in a folder; SRPM payloads are flat", p)
		}
		if strings.HasSuffix(p, ".spec") {
			specs++
			s.Tree["SPECS/"+p] = f
			continue
		}
		f.Lookaside = isArchive(p)
		s.Tree["SOURCES/"+p] = f
	}
	if specs != 1 {
		return fail("holds %d spec files, expected 1", specs)
	}
	return s, nil
}

func checkDigests(pkg *rpm.Package, header, payload []byte) error {
	sig := pkg.Signature
	if t := sig.GetTag(sigTagSize); t != nil {
		if want := t.Int64(); want != int64(len(header)+len(payload)) {
			return fmt.Errorf("truncated or padded: header and payload are %d bytes, the signature says %d", len(header)+len(payload), want)
		}
	}
	checked := false
	if t := sig.GetTag(sigTagSHA256); t != nil {
		sum := sha256.Sum256(header)
		if got := hex.EncodeToString(sum[:]); got != strings.TrimSpace(t.String()) {
			return fmt.Errorf("header SHA256 digest mismatch: the file is corrupt")
		}
		checked = true
	}
	if t := sig.GetTag(sigTagSHA1); t != nil {
		sum := sha1.Sum(header)
		if got := hex.EncodeToString(sum[:]); got != strings.TrimSpace(t.String()) {
			return fmt.Errorf("header SHA1 digest mismatch: the file is corrupt")
		}
		checked = true
	}
	if t := pkg.Header.GetTag(tagPayloadDigest); t != nil {
		alg := int64(8) // SHA256
		if a := pkg.Header.GetTag(tagPayloadDigestAlg); a != nil {
			alg = a.Int64()
		}
		if alg != 8 {
			return fmt.Errorf("payload digest algorithm %d is not supported", alg)
		}
		sum := sha256.Sum256(payload)
		want := t.StringSlice()
		if len(want) == 0 || hex.EncodeToString(sum[:]) != want[0] {
			return fmt.Errorf("payload SHA256 digest mismatch: the file is corrupt or truncated")
		}
		checked = true
	} else if t := sig.GetTag(sigTagMD5); t != nil {
		sum := md5.Sum(append(append([]byte{}, header...), payload...))
		if !bytes.Equal(sum[:], t.Bytes()) {
			return fmt.Errorf("MD5 digest mismatch: the file is corrupt or truncated")
		}
		checked = true
	}
	if !checked {
		return fmt.Errorf("carries no digest to check")
	}
	return nil
}

func unpack(compression string, payload []byte) (map[string]*store.File, error) {
	var r io.Reader = bytes.NewReader(payload)
	var err error
	switch compression {
	case "gzip", "":
		r, err = gzip.NewReader(r)
	case "bzip2":
		r = bzip2.NewReader(r)
	case "xz", "lzma":
		r, err = xz.NewReader(r)
	case "zstd":
		var d *zstd.Decoder
		d, err = zstd.NewReader(r)
		if err == nil {
			defer d.Close()
			r = d
		}
	default:
		return nil, fmt.Errorf("compression %q is not supported", compression)
	}
	if err != nil {
		return nil, err
	}
	out := map[string]*store.File{}
	cr := cpio.NewReader(r)
	for {
		hdr, err := cr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if !hdr.Mode.IsRegular() {
			continue
		}
		p, err := store.CleanPath(strings.TrimPrefix(hdr.Name, "./"))
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(cr)
		if err != nil {
			return nil, err
		}
		if int64(len(data)) != hdr.Size {
			return nil, fmt.Errorf("%s is truncated", p)
		}
		out[p] = &store.File{Data: data, Exec: hdr.Mode&0o111 != 0}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("holds no files")
	}
	return out, nil
}

// isArchive tells the sources that belong in a lookaside, not in git.
func isArchive(name string) bool {
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".zip", ".gem", ".crate", ".jar", ".whl"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return path.Ext(name) == ".gz" || path.Ext(name) == ".xz" || path.Ext(name) == ".bz2"
}
