package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// What a sandbox leaves in its folder is the job's: any entry may be a
// symbolic link to the host's keys, a FIFO that blocks a reader, a device,
// or a file far larger than it should be. The host reads it back only
// through these functions, which walk the path one component at a time
// from the folder, never follow a link, never leave the folder's file
// system, and open nothing but regular files and directories.

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

// ReadFile reads rel, a path inside the folder, if it is a regular file
// of at most max bytes reached without any link.
func (b *Box) ReadFile(rel string, max int64) ([]byte, error) { return ReadFileIn(b.Dir(), rel, max) }

// Find lists the regular files under rel (a folder inside the folder),
// depth levels down (1: rel's own files), whose names end in suffix, as
// paths relative to the folder, sorted. Links and other special files are
// reported, not listed.
func (b *Box) Find(rel string, depth int, suffix string) ([]string, error) {
	return FindIn(b.Dir(), rel, depth, suffix)
}

// ReadFileIn is ReadFile for any folder whose content is untrusted.
func ReadFileIn(root, rel string, max int64) ([]byte, error) {
	f, err := openIn(root, rel, false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, err
	}
	if st.Size > max {
		return nil, &UnsafeError{Path: rel, Why: fmt.Sprintf("%d bytes, over the limit of %d", st.Size, max)}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	if int64(len(data)) > max {
		return nil, &UnsafeError{Path: rel, Why: fmt.Sprintf("over the limit of %d bytes", max)}
	}
	return data, nil
}

// FindIn is Find for any folder whose content is untrusted.
func FindIn(root, rel string, depth int, suffix string) ([]string, error) {
	var out []string
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		f, err := openIn(root, dir, true)
		if err != nil {
			return err
		}
		entries, err := f.ReadDir(-1)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		for _, e := range entries {
			p := path.Join(dir, e.Name())
			switch t := e.Type(); {
			case t.IsDir():
				if depth > 1 {
					if err := walk(p, depth-1); err != nil {
						return err
					}
				}
			case t.IsRegular():
				if depth == 1 && strings.HasSuffix(e.Name(), suffix) {
					out = append(out, p)
				}
			default:
				if strings.HasSuffix(e.Name(), suffix) || depth > 1 {
					why := "not a regular file or folder"
					if t&os.ModeSymlink != 0 {
						why = "a symbolic link"
					}
					return &UnsafeError{Path: p, Why: why}
				}
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

// openIn opens rel under root component by component with O_NOFOLLOW,
// staying on root's file system; dir says what the last one must be.
func openIn(root, rel string, dir bool) (*os.File, error) {
	clean := path.Clean(rel)
	if rel == "" || path.IsAbs(rel) || clean == ".." || strings.HasPrefix(clean, "../") {
		return nil, &UnsafeError{Path: rel, Why: "not a path inside the folder"}
	}
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", root, err)
	}
	var rootSt unix.Stat_t
	if err := unix.Fstat(fd, &rootSt); err != nil {
		unix.Close(fd)
		return nil, err
	}
	parts := strings.Split(clean, "/")
	if clean == "." {
		parts = nil
	}
	for i, part := range parts {
		last := i == len(parts)-1
		flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK
		if !last || dir {
			flags |= unix.O_DIRECTORY
		}
		next, err := unix.Openat(fd, part, flags, 0)
		if err != nil {
			sub := strings.Join(parts[:i+1], "/")
			var st unix.Stat_t
			isLink := unix.Fstatat(fd, part, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
			unix.Close(fd)
			switch {
			case isLink || errors.Is(err, unix.ELOOP):
				return nil, &UnsafeError{Path: sub, Why: "a symbolic link"}
			case errors.Is(err, unix.ENOTDIR):
				return nil, &UnsafeError{Path: sub, Why: "not a folder"}
			case errors.Is(err, unix.ENOENT):
				return nil, fmt.Errorf("%s: %w", sub, os.ErrNotExist)
			}
			return nil, fmt.Errorf("%s: %w", sub, err)
		}
		unix.Close(fd)
		fd = next
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return nil, err
		}
		sub := strings.Join(parts[:i+1], "/")
		if st.Dev != rootSt.Dev {
			unix.Close(fd)
			return nil, &UnsafeError{Path: sub, Why: "on another file system"}
		}
		mode := st.Mode & unix.S_IFMT
		if (!last || dir) && mode != unix.S_IFDIR || last && !dir && mode != unix.S_IFREG {
			unix.Close(fd)
			return nil, &UnsafeError{Path: sub, Why: "not a regular file"}
		}
	}
	// The file is regular now: reads should block as usual.
	if !dir {
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil {
			unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_NONBLOCK)
		}
	}
	return os.NewFile(uintptr(fd), path.Join(root, clean)), nil
}
