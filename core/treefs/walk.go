package treefs

import (
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// Entry is one thing under the tree.
type Entry struct {
	Path   string      // slash-separated, relative to the tree
	Type   fs.FileMode // 0 for a regular file, else fs.ModeDir, fs.ModeSymlink, fs.ModeNamedPipe, ...
	Size   int64
	Target string // a symlink's target, read (never followed)
}

// Regular reports whether the entry is a regular file.
func (e Entry) Regular() bool { return e.Type == 0 }

// Kind names an entry's type for messages.
func (e Entry) Kind() string {
	switch {
	case e.Type == 0:
		return "a regular file"
	case e.Type&fs.ModeDir != 0:
		return "a folder"
	case e.Type&fs.ModeSymlink != 0:
		return "a symlink to " + e.Target
	case e.Type&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case e.Type&fs.ModeSocket != 0:
		return "a socket"
	case e.Type&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// Walk calls fn for everything under the tree (not the tree itself), in
// lexical order, folders before what they hold. It descends only into
// real folders, each opened beneath its parent's descriptor with
// O_NOFOLLOW: a symlink is reported with its target and never followed,
// and nothing but folders is opened.
func (t *FS) Walk(fn func(Entry) error) error {
	fd, err := unix.Openat(t.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: t.dir, Err: err}
	}
	return t.walk(fd, ".", fn)
}

func (t *FS) walk(fd int, dir string, fn func(Entry) error) error {
	f := os.NewFile(uintptr(fd), dir)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return &fs.PathError{Op: "readdir", Path: t.Path(dir), Err: err}
	}
	sort.Strings(names)
	for _, name := range names {
		rel := path.Join(dir, name)
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &fs.PathError{Op: "lstat", Path: t.Path(rel), Err: err}
		}
		e := Entry{Path: rel, Size: st.Size, Type: (&info{name: name, st: st}).Mode().Type()}
		if e.Type == fs.ModeSymlink {
			buf := make([]byte, 4096)
			if n, err := unix.Readlinkat(fd, name, buf); err == nil {
				e.Target = string(buf[:n])
			}
		}
		if err := fn(e); err != nil {
			return err
		}
		if e.Type != fs.ModeDir {
			continue
		}
		sub, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return &fs.PathError{Op: "open", Path: t.Path(rel), Err: err}
		}
		if err := t.walk(sub, rel, fn); err != nil {
			return err
		}
	}
	return nil
}

// dirFile is an open folder of the tree whose entries are read beneath
// its descriptor (os.File.ReadDir would lstat them by name, from the
// current directory).
type dirFile struct {
	*os.File
	names []string
	read  bool
}

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		names, err := d.File.Readdirnames(-1)
		if err != nil {
			return nil, err
		}
		sort.Strings(names)
		d.names, d.read = names, true
	}
	if n <= 0 {
		n = len(d.names)
	} else if len(d.names) == 0 {
		return nil, io.EOF
	}
	var out []fs.DirEntry
	for _, name := range d.names[:min(n, len(d.names))] {
		var st unix.Stat_t
		if err := unix.Fstatat(int(d.File.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return out, &fs.PathError{Op: "lstat", Path: path.Join(d.File.Name(), name), Err: err}
		}
		out = append(out, fs.FileInfoToDirEntry(&info{name: name, st: st}))
	}
	d.names = d.names[len(out):]
	return out, nil
}

// info is an fs.FileInfo from a stat beneath the tree.
type info struct {
	name string
	st   unix.Stat_t
}

func (i *info) Name() string { return i.name }
func (i *info) Size() int64  { return i.st.Size }
func (i *info) Mode() fs.FileMode {
	m := fs.FileMode(i.st.Mode & 0o777)
	switch i.st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	}
	return m
}
func (i *info) ModTime() time.Time { return time.Unix(i.st.Mtim.Unix()) }
func (i *info) IsDir() bool        { return i.Mode().IsDir() }
func (i *info) Sys() any           { return &i.st }
