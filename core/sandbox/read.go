package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"syscall"

	"github.com/quarrylinux/quarry/core/treefs"
)

// What a sandbox leaves in its folder is the job's: any entry may be a
// symbolic link to the host's keys, a FIFO that blocks a reader, or a file
// far larger than it should be. The host reads it back only through these
// functions, which open it with treefs: beneath the folder, never through
// a link, nothing but regular files and folders, and here of a bounded
// size.

// ErrUnsafe is a path the host refuses to read back.
var ErrUnsafe = errors.New("refused")

// UnsafeError says which path of a sandbox's folder was refused, and why.
type UnsafeError struct {
	Path string
	Why  string
}

func (e *UnsafeError) Error() string {
	return fmt.Sprintf("%s: %s (the host reads back only regular files inside the job's folder, never through a link)", e.Path, e.Why)
}

func (e *UnsafeError) Unwrap() error { return ErrUnsafe }

// refused turns treefs's refusals into an UnsafeError naming rel.
func refused(rel string, err error) error {
	for _, r := range []struct {
		err error
		why string
	}{{treefs.ErrSymlink, "a symbolic link"}, {treefs.ErrNotRegular, "not a regular file"}, {treefs.ErrOutside, "not a path inside the folder"}} {
		if errors.Is(err, r.err) {
			return &UnsafeError{Path: rel, Why: r.why}
		}
	}
	return err
}

// ReadFile reads rel, a path inside the folder, if it is a regular file
// of at most max bytes reached without any link.
func (b *Box) ReadFile(rel string, max int64) ([]byte, error) {
	t, err := treefs.Open(b.Dir())
	if err != nil {
		return nil, err
	}
	defer t.Close()
	f, err := t.Open(rel)
	if err != nil {
		return nil, refused(rel, err)
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w", rel, err)
	case st.IsDir():
		return nil, &UnsafeError{Path: rel, Why: "not a regular file"}
	case st.Size() > max:
		return nil, &UnsafeError{Path: rel, Why: fmt.Sprintf("%d bytes, over the limit of %d", st.Size(), max)}
	case sparse(st):
		// It costs the job nothing on its tmpfs and the host its size in
		// memory: no tool writes RPMs or logs with holes.
		return nil, &UnsafeError{Path: rel, Why: fmt.Sprintf("a sparse file (%d bytes, mostly holes)", st.Size())}
	}
	data := make([]byte, 0, st.Size()+1)
	buf := bytes.NewBuffer(data)
	if _, err := buf.ReadFrom(io.LimitReader(f, max+1)); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	if int64(buf.Len()) > max {
		return nil, &UnsafeError{Path: rel, Why: fmt.Sprintf("over the limit of %d bytes", max)}
	}
	return buf.Bytes(), nil
}

// sparse says whether a file of more than a MiB has fewer than half its
// bytes on disk.
func sparse(st fs.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && st.Size() > 1<<20 && sys.Blocks*512 < st.Size()/2
}

// Find lists the regular files under rel (a folder inside the folder),
// depth levels down (1: rel's own files), whose names end in suffix, as
// paths relative to the folder, sorted. A link or special file where one
// could be is refused, not skipped.
func (b *Box) Find(rel string, depth int, suffix string) ([]string, error) {
	t, err := treefs.Open(b.Dir())
	if err != nil {
		return nil, err
	}
	defer t.Close()
	var out []string
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		entries, err := fs.ReadDir(t, dir)
		if err != nil {
			return refused(dir, err)
		}
		for _, e := range entries {
			p := path.Join(dir, e.Name())
			switch typ := e.Type(); {
			case typ.IsDir():
				if depth > 1 {
					if err := walk(p, depth-1); err != nil {
						return err
					}
				}
			case typ.IsRegular():
				if depth == 1 && strings.HasSuffix(e.Name(), suffix) {
					out = append(out, p)
				}
			case strings.HasSuffix(e.Name(), suffix) || depth > 1:
				why := "not a regular file or folder"
				if typ&fs.ModeSymlink != 0 {
					why = "a symbolic link"
				}
				return &UnsafeError{Path: p, Why: why}
			}
		}
		return nil
	}
	if err := walk(path.Clean(rel), depth); err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}
