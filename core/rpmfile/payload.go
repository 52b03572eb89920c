package rpmfile

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/cavaliergopher/cpio"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz/lzma"

	"github.com/quarrylinux/quarry/core/store"
)

// MaxUnpacked bounds the unpacked payload of a package that does not say
// its size, or says a larger one: what Files holds in memory at most.
var MaxUnpacked int64 = 4 << 30

// Dictionary and window limits: rpm's xz and lzma presets use at most 64
// MiB, its zstd levels at most 128 MiB. The decoders would otherwise size
// them from the stream's own headers, up to 4 GiB.
const (
	maxXZDict     = 64 << 20
	maxZstdWindow = 128 << 20
)

// payloadSpec is what the headers say about the payload.
type payloadSpec struct {
	compression string
	format      string
	size        int64  // unpacked size, -1 when not said
	altDigest   string // PAYLOADDIGESTALT: SHA256 of the unpacked payload, when there
}

// payloadOf reads the payload's description from both headers.
func payloadOf(sig, hdr *verified) (payloadSpec, error) {
	p := payloadSpec{compression: "gzip", format: "cpio", size: -1}
	if e := hdr.get(1125); e != nil {
		p.compression = cString(e.Data)
	}
	if e := hdr.get(1124); e != nil {
		p.format = cString(e.Data)
	}
	sizes := map[string]int64{}
	for _, s := range []struct {
		h   *verified
		tag int
		nm  string
	}{{sig, sigTagPayloadSize, "PAYLOADSIZE"}, {sig, sigTagLongArchive, "LONGARCHIVESIZE"}, {hdr, 1046, "ARCHIVESIZE"}, {hdr, sigTagLongArchive, "LONGARCHIVESIZE"}} {
		if e := s.h.get(s.tag); e != nil {
			sizes[s.nm] = int64(bigEndian(e.Data))
		}
	}
	for name, n := range sizes {
		if p.size >= 0 && n != p.size {
			return p, fmt.Errorf("the headers disagree on the unpacked payload's size (%s is %d, another says %d)", name, n, p.size)
		}
		p.size = n
	}
	if e := hdr.get(tagPayloadDigestAlt); e != nil {
		p.altDigest = cString(e.Data)
	}
	return p, nil
}

// bigEndian reads a 4- or 8-byte unsigned value.
func bigEndian(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// unpack reads the cpio payload's regular files, unpacking at most limit
// bytes in all (the declared size when there is one, and no more than
// MaxUnpacked), and checks what the headers say of the unpacked payload.
func unpack(spec payloadSpec, payload []byte) (map[string]*store.File, error) {
	if spec.format != "cpio" {
		return nil, fmt.Errorf("payload format %q is not supported", spec.format)
	}
	limit := MaxUnpacked
	if spec.size > MaxUnpacked {
		return nil, fmt.Errorf("unpacks to %d bytes, more than the %d Quarry unpacks", spec.size, MaxUnpacked)
	}
	if spec.size >= 0 {
		limit = spec.size
	}
	r, closer, err := decompressor(spec.compression, payload)
	if err != nil {
		return nil, err
	}
	defer closer()
	counted := &limitedReader{r: r, left: limit}
	var sum hash.Hash
	var in io.Reader = counted
	if spec.altDigest != "" {
		sum = sha256.New()
		in = io.TeeReader(counted, sum)
	}
	out := map[string]*store.File{}
	cr := cpio.NewReader(in)
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
		if _, dup := out[p]; dup {
			return nil, fmt.Errorf("%s is in the payload twice", p)
		}
		if hdr.Size > counted.left {
			return nil, fmt.Errorf("%s: %d bytes, more than the payload's size allows", p, hdr.Size)
		}
		// The buffer grows with the bytes that arrive: the size in the
		// cpio header is only a claim (the declared payload size bounds
		// it, but that sits in the unsigned signature header).
		b := bytes.NewBuffer(make([]byte, 0, min(hdr.Size, 1<<20)))
		if _, err := b.ReadFrom(io.LimitReader(cr, hdr.Size)); err != nil {
			return nil, err
		}
		if int64(b.Len()) != hdr.Size {
			return nil, fmt.Errorf("%s is truncated", p)
		}
		out[p] = &store.File{Data: b.Bytes(), Exec: hdr.Mode&0o111 != 0}
	}
	// The rest of the stream is the trailer's padding: count it too.
	if _, err := io.Copy(io.Discard, in); err != nil {
		return nil, err
	}
	if got := limit - counted.left; spec.size >= 0 && got != spec.size {
		return nil, fmt.Errorf("unpacks to %d bytes, the header says %d", got, spec.size)
	}
	if sum != nil && hex.EncodeToString(sum.Sum(nil)) != spec.altDigest {
		return nil, errors.New("unpacked payload digest mismatch (PAYLOADDIGESTALT)")
	}
	return out, nil
}

// errTooBig is a payload that unpacks to more than it may.
var errTooBig = errors.New("unpacks to more than its declared size")

// limitedReader fails, rather than stopping, past its limit.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells a stream that ends here from one that does not.
		var one [1]byte
		for range 100 {
			n, err := l.r.Read(one[:])
			if n > 0 {
				return 0, errTooBig
			}
			if err != nil {
				return 0, err
			}
		}
		return 0, io.ErrNoProgress
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// decompressor opens the payload; its dictionary or window is bounded.
func decompressor(compression string, payload []byte) (io.Reader, func(), error) {
	r := bytes.NewReader(payload)
	none := func() {}
	switch compression {
	case "gzip":
		z, err := gzip.NewReader(r)
		return z, none, err
	case "bzip2":
		return bzip2.NewReader(r), none, nil
	case "xz":
		return newXZReader(r, maxXZDict), none, nil
	case "lzma":
		z, err := lzma.ReaderConfig{DictCap: maxXZDict}.NewReader(r)
		return z, none, err
	case "zstd":
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, none, err
		}
		return d, d.Close, nil
	}
	return nil, none, fmt.Errorf("compression %q is not supported", compression)
}
