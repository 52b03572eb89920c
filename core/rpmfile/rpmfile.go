// Package rpmfile reads RPM files (binary or source) without any rpm tool:
// it checks their size and digests and unpacks their cpio payload.
package rpmfile

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
	"strings"

	"github.com/cavaliergopher/cpio"
	"github.com/cavaliergopher/rpm"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/quarrylinux/quarry/core/store"
)

// Signature and header tags used to check digests.
const (
	sigTagSize          = 1000
	sigTagMD5           = 1004
	sigTagSHA1          = 269
	sigTagSHA256        = 273
	tagPayloadDigest    = 5092
	tagPayloadDigestAlg = 5093
	// TagSourcePackage is set in the header of a source RPM.
	TagSourcePackage = 1106
)

// File is a read and checked RPM.
type File struct {
	*rpm.Package
	payload []byte
}

// Read parses data as an RPM and checks its size and digests; name is the
// file's name, for messages.
func Read(name string, data []byte) (*File, error) {
	pkg, err := rpm.Read(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable RPM: %v", name, err)
	}
	start, end := pkg.HeaderRange()
	if end > len(data) {
		return nil, fmt.Errorf("%s: truncated inside its header", name)
	}
	header, payload := data[start:end], data[end:]
	if err := checkDigests(pkg, header, payload); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return &File{Package: pkg, payload: payload}, nil
}

// IsSource tells a source RPM from a binary one.
func (f *File) IsSource() bool {
	return f.Header.GetTag(TagSourcePackage) != nil || f.Lead.Type == 1
}

// Files unpacks the payload's regular files by path (no leading "./" or "/").
func (f *File) Files() (map[string]*store.File, error) {
	files, err := unpack(f.PayloadCompression(), f.payload)
	if err != nil {
		return nil, fmt.Errorf("payload: %v", err)
	}
	return files, nil
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
		p, err := store.CleanPath(strings.TrimLeft(strings.TrimPrefix(hdr.Name, "."), "/"))
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
	return out, nil
}
