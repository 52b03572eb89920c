// Package treefs reads one folder tree without ever leaving it: the tree
// is opened once, and every path under it is a clean relative path,
// checked before any system call, and opened beneath the tree's file
// descriptor without following a symlink anywhere on the way
// (openat2 with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS; one openat with
// O_NOFOLLOW per component where openat2 is missing). Only regular files
// and folders are ever opened: a FIFO or a device is refused, never read.
//
// It is how quarry verify and quarry sig read a publication whose
// contents are not trusted yet.
package treefs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

var (
	// ErrOutside is a path that is not a clean relative path inside the
	// tree ("../x", "/etc/passwd", "a/./b", "a//b"). It is refused before
	// anything is opened.
	ErrOutside = errors.New("not a path inside the tree")
	// ErrSymlink is a path that is, or goes through, a symlink.
	ErrSymlink = errors.New("a symlink: not followed")
	// ErrNotRegular is a path that is neither a regular file nor a folder.
	ErrNotRegular = errors.New("not a regular file")
)

// FS is an open tree. It implements fs.FS and fs.ReadFileFS.
type FS struct {
	fd  int
	dir string // the tree's real path, for messages
}

// Open opens the tree at dir. dir itself may be a symlink (out/current
// points at composes/<id>): it is resolved once, here, and the tree is
// the folder it names at this moment.
func Open(dir string) (*FS, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	real, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		real, _ = filepath.Abs(dir)
	}
	return &FS{fd: fd, dir: real}, nil
}

// Dir is the tree's real path.
func (t *FS) Dir() string { return t.dir }

// Path is the real path of name in the tree, for messages.
func (t *FS) Path(name string) string {
	if name == "." {
		return t.dir
	}
	return filepath.Join(t.dir, filepath.FromSlash(name))
}

// Close releases the tree.
func (t *FS) Close() error { return unix.Close(t.fd) }

// Valid reports whether name is a clean slash-separated path inside a
// tree: fs.ValidPath, which refuses "..", leading or doubled slashes and
// "." elements, and no NUL or backslash either.
func Valid(name string) bool {
	return fs.ValidPath(name) && !strings.ContainsAny(name, "\x00\\")
}

// Open opens a regular file or a folder of the tree.
func (t *FS) Open(name string) (fs.File, error) {
	f, err := t.open(name)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return &dirFile{File: f}, nil
	}
	return f, nil
}

// ReadFile reads a regular file of the tree.
func (t *FS) ReadFile(name string) ([]byte, error) {
	f, err := t.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if st.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: ErrNotRegular}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, nil
}

// open validates name and opens it beneath the tree; the result is a
// regular file or a folder.
func (t *FS) open(name string) (*os.File, error) {
	if !Valid(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: ErrOutside}
	}
	// O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then
	// refuses it. (It changes nothing for regular files and folders.)
	flags := unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NOCTTY | unix.O_NONBLOCK
	fd, err := t.openBeneath(name, flags)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if m := st.Mode & unix.S_IFMT; m != unix.S_IFREG && m != unix.S_IFDIR {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// noOpenat2 is set by tests to take the per-component path.
var noOpenat2 bool

func (t *FS) openBeneath(name string, flags int) (int, error) {
	if name == "." {
		return unix.Openat(t.fd, ".", flags|unix.O_DIRECTORY, 0)
	}
	if !noOpenat2 {
		fd, err := unix.Openat2(t.fd, name, &unix.OpenHow{Flags: uint64(flags),
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS})
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.ELOOP):
			return -1, ErrSymlink
		case errors.Is(err, unix.EXDEV):
			return -1, ErrOutside
		case !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EPERM):
			return -1, err
		}
		// No openat2 (a kernel before 5.6, or a seccomp filter that
		// refuses it): the same walk, one component at a time.
	}
	dir := t.fd
	defer func() {
		if dir != t.fd {
			unix.Close(dir)
		}
	}()
	parts := strings.Split(name, "/")
	for i, part := range parts {
		f := unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_DIRECTORY
		if i == len(parts)-1 {
			f = flags
		}
		fd, err := unix.Openat(dir, part, f, 0)
		if err != nil {
			var st unix.Stat_t
			// O_NOFOLLOW|O_DIRECTORY on a symlink is ELOOP or ENOTDIR.
			if errors.Is(err, unix.ELOOP) || (errors.Is(err, unix.ENOTDIR) &&
				unix.Fstatat(dir, part, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK) {
				return -1, ErrSymlink
			}
			return -1, err
		}
		if dir != t.fd {
			unix.Close(dir)
		}
		dir = fd
	}
	fd := dir
	dir = t.fd // handed to the caller, not closed
	return fd, nil
}
