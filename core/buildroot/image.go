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

// Open opens a rootfs image file as its uncompressed tar stream, by its
// name: .tar, .tar.gz or .tgz, .tar.zst, .tar.xz. The pin is the stream's
// digest, so recompressing an image does not change it.
func Open(path string) (io.ReadCloser, error) {
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

// Digest is the pin of an image file: sha256:<hex> of its uncompressed
// tar stream.
func Digest(path string) (string, error) {
	r, err := Open(path)
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
