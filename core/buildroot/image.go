package buildroot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Open opens an image as its root's tar stream: an OCI image (layout
// folder or archive) for arch, flattened; or a rootfs tarball, by its
// name: .tar, .tar.gz or .tgz, .tar.zst, .tar.xz, uncompressed.
func Open(path, arch string) (io.ReadCloser, error) {
	if IsOCI(path) {
		o, err := openOCI(path, arch)
		if err != nil {
			return nil, fmt.Errorf("buildroot %s: %w", path, err)
		}
		return o.stream(), nil
	}
	return openTarball(path)
}

// openTarball opens a rootfs tarball as its uncompressed tar stream. Its
// pin is the stream's digest, so recompressing it does not change it.
func openTarball(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var r io.Reader
	switch {
	case strings.HasSuffix(path, ".tar"):
		return f, nil
	case strings.HasSuffix(path, ".tar.gz"), strings.HasSuffix(path, ".tgz"):
		r, err = gzip.NewReader(f)
	case strings.HasSuffix(path, ".tar.zst"):
		var z *zstd.Decoder
		if z, err = zstd.NewReader(f); err == nil {
			r = z.IOReadCloser()
		}
	case strings.HasSuffix(path, ".tar.xz"):
		r, err = xz.NewReader(f)
	default:
		err = fmt.Errorf("not a .tar, .tar.gz, .tar.zst or .tar.xz file")
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("buildroot %s: %w", path, err)
	}
	return &stream{Reader: r, f: f}, nil
}

type stream struct {
	io.Reader
	f *os.File
}

func (s *stream) Close() error {
	if c, ok := s.Reader.(io.Closer); ok {
		c.Close()
	}
	return s.f.Close()
}

// Digest is the pin of an image: an OCI image's manifest digest (for
// arch), after checking every layer against it; a rootfs tarball's is
// sha256:<hex> of its uncompressed tar stream.
func Digest(path, arch string) (string, error) {
	if IsOCI(path) {
		o, err := openOCI(path, arch)
		if err != nil {
			return "", fmt.Errorf("buildroot %s: %w", path, err)
		}
		defer o.blobs.Close()
		if err := o.verify(); err != nil {
			return "", fmt.Errorf("buildroot %s: %w", path, err)
		}
		return o.manifest, nil
	}
	r, err := openTarball(path)
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("buildroot %s: %w", path, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// UnpackImage unpacks the image at path for arch (Unpack), pinned as want.
// An OCI image's layers are checked against its manifest before
// anything is written, and again as they are read.
func UnpackImage(path, arch, want, cache string) (*Unpacked, error) {
	if !IsOCI(path) {
		return Unpack(arch, func() (io.ReadCloser, error) { return openTarball(path) }, want, cache)
	}
	check := func() error {
		got, err := Digest(path, arch)
		if err != nil {
			return err
		}
		if got != want {
			return &DigestError{Name: arch, Want: want, Got: got}
		}
		return nil
	}
	open := func() (io.ReadCloser, error) {
		o, err := openOCI(path, arch)
		if err != nil {
			return nil, err
		}
		if o.manifest != want {
			o.blobs.Close()
			return nil, &DigestError{Name: arch, Want: want, Got: o.manifest}
		}
		return o.stream(), nil
	}
	return unpack(arch, open, check, false, want, cache)
}
