// Package store is Quarry's content-addressed store: immutable blobs named by
// their sha256, and trees (a package's files) stored as canonical manifests
// that are blobs themselves. Every write goes to a temporary file that is
// renamed into place, so a killed process never leaves a blob half-written
// under its final name.
package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// Store is a folder of blobs: <root>/blobs/sha256/<2 hex>/<64 hex>.
type Store struct {
	root string
}

var digestPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ErrNotFound is returned for a digest the store does not hold.
var ErrNotFound = errors.New("not in the store")

// Open opens (creating if needed) the store at root.
func Open(root string) (*Store, error) {
	for _, dir := range []string{"blobs/sha256", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	return &Store{root: root}, nil
}

// Digest is the sha256 of data, in hex.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Path is where the blob of digest lives (whether or not it is there).
func (s *Store) Path(digest string) string {
	return filepath.Join(s.root, "blobs", "sha256", digest[:2], digest)
}

// Has reports whether the store holds digest.
func (s *Store) Has(digest string) bool {
	if !digestPattern.MatchString(digest) {
		return false
	}
	_, err := os.Stat(s.Path(digest))
	return err == nil
}

// Put stores data and returns its digest. Storing what is there is a no-op.
func (s *Store) Put(data []byte) (string, error) {
	d := Digest(data)
	if s.Has(d) {
		return d, nil
	}
	// Written aside in <root>/tmp, so that the blob folders only ever
	// hold complete blobs under their names.
	if err := writeVia(filepath.Join(s.root, "tmp"), s.Path(d), data, 0o444, true); err != nil {
		return d, fmt.Errorf("store %s: %w", d, err)
	}
	return d, nil
}

// Get returns the blob of digest, checking that its content still matches.
func (s *Store) Get(digest string) ([]byte, error) {
	if !digestPattern.MatchString(digest) {
		return nil, fmt.Errorf("blob %q: %w", digest, ErrNotFound)
	}
	data, err := os.ReadFile(s.Path(digest))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", digest, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if got := Digest(data); got != digest {
		return nil, fmt.Errorf("blob %s is corrupt (content hashes to %s); remove it and import again", digest, got)
	}
	return data, nil
}

// Alias returns the sha256 digest of the blob whose other digest (a
// lookaside's sha512, say) is typ:value, if it was recorded.
func (s *Store) Alias(typ, value string) (string, bool) {
	data, err := os.ReadFile(filepath.Join(s.root, "alias", typ, value))
	d := string(data)
	if err != nil || !s.Has(d) {
		return "", false
	}
	return d, true
}

// PutAlias records that typ:value names the blob digest.
func (s *Store) PutAlias(typ, value, digest string) error {
	return WriteFile(filepath.Join(s.root, "alias", typ, value), []byte(digest), 0o644)
}

// WriteFile writes data to path the way everything Quarry keeps is written:
// to a temporary file beside it, synced, then renamed into place, so that
// a reader (or a run after a kill -9) sees the old file or the new one.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return writeVia(filepath.Dir(path), path, data, perm, true)
}

// WriteCache is WriteFile without the sync, for caches: after a crash the
// file is old, new or torn, never half-renamed, and a torn cache is only
// recomputed.
func WriteCache(path string, data []byte) error {
	return writeVia(filepath.Dir(path), path, data, 0o644, false)
}

// writeVia writes data to path through a temporary file in tmpDir, which
// must be on the same file system.
func writeVia(tmpDir, path string, data []byte, perm os.FileMode, sync bool) error {
	return writeFuncVia(tmpDir, path, perm, sync, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteCacheFunc is WriteCache for content that write streams.
func WriteCacheFunc(path string, write func(io.Writer) error) error {
	return writeFuncVia(filepath.Dir(path), path, 0o644, false, write)
}

func writeFuncVia(tmpDir, path string, perm os.FileMode, sync bool, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(tmpDir, ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), perm); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Link hard-links src to dst (the store and the published tree usually
// share a file system), copying when it cannot.
func Link(src, dst string) error {
	if err := os.Link(src, dst); err == nil || errors.Is(err, os.ErrExist) {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
