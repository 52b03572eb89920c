// Package buildroot keeps the per-arch base root file systems that build
// jobs run in (issue 16): an image is pinned by the sha256 of its
// uncompressed tar stream, unpacked once into a cache folder named by that
// digest, and shared read-only by the jobs.
//
// An image is an input like any other and is not trusted to be well
// formed: unpacking never follows a link (a file is never written through
// one, nor a folder entered through one), no path leaves the root, device
// nodes are left out (the sandbox brings its own /dev), setuid and setgid
// bits are dropped, and owners must be ids a build's user namespace maps.
package buildroot

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// MaxID is the highest owner an image's file may have: a build's user
// namespace maps 0..MaxID (sandbox.IDs).
const MaxID = 65535

// complete, beside a folder (not in it: the folder is a job's root),
// marks one whose unpacking finished; one without it is a killed run's
// and is unpacked again.
const complete = ".complete"

// Unpacked says where an image is and what unpacking left out.
type Unpacked struct {
	Dir     string // cache/sha256-<hex>
	Digest  string // sha256:<hex> of the uncompressed tar stream
	Devices int    // device nodes and FIFOs left out
}

// Opener opens an image's tar stream, from the start, each time it is
// called (Open of its file, for one).
type Opener func() (io.ReadCloser, error)

// Unpack unpacks the tar stream open gives into cache/sha256-<hex> unless
// it is there already. want is the pinned digest ("sha256:<hex>"). The
// stream is hashed before anything of it is written, so an image that is
// not the pinned one (a tar that expands to fill the disk, say) is refused
// having written nothing; the extraction hashes it again, in case the file
// changed in between. name is for messages. Two Quarry processes that
// unpack one image take turns (a lock file beside it).
func Unpack(name string, open Opener, want, cache string) (*Unpacked, error) {
	return unpack(name, open, func() error { return check(name, open, want) }, true, want, cache)
}

// unpack is Unpack with its check (before anything is written) given,
// and the stream hashed against want as it is extracted or not (an OCI
// image's stream checks its layers itself).
func unpack(name string, open Opener, verify func() error, hashStream bool, want, cache string) (*Unpacked, error) {
	hexDigest, ok := strings.CutPrefix(want, "sha256:")
	if !ok || len(hexDigest) != 64 || strings.Trim(hexDigest, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("buildroot %s: %q is not a sha256:<64 hex digits> digest", name, want)
	}
	dir := filepath.Join(cache, "sha256-"+hexDigest)
	if err := private(cache); err != nil {
		return nil, fmt.Errorf("buildroot cache: %w", err)
	}
	if done(dir) {
		return &Unpacked{Dir: dir, Digest: want}, nil
	}
	unlock, err := lock(dir + ".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if done(dir) { // the other process finished it
		return &Unpacked{Dir: dir, Digest: want}, nil
	}
	if err := verify(); err != nil {
		return nil, err
	}
	// What a killed run of this image left: its temporary folders, a
	// folder without its marker.
	stale, _ := filepath.Glob(filepath.Join(cache, ".unpack-"+hexDigest[:16]+"-*"))
	for _, d := range append(stale, dir, dir+complete) {
		if err := os.RemoveAll(d); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp(cache, ".unpack-"+hexDigest[:16]+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	r, err := open()
	if err != nil {
		return nil, fmt.Errorf("buildroot %s: %w", name, err)
	}
	defer r.Close()
	h := sha256.New()
	stream := io.TeeReader(r, h)
	devices, err := extract(stream, tmp)
	if err != nil {
		return nil, fmt.Errorf("buildroot %s: %w", name, err)
	}
	// The digest covers the whole stream, the tar's padding after its end
	// included.
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return nil, fmt.Errorf("buildroot %s: %w", name, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); hashStream && got != want {
		return nil, &DigestError{Name: name, Want: want, Got: got}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	fd, err := unix.Open(dir+complete, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, err
	}
	unix.Close(fd)
	return &Unpacked{Dir: dir, Digest: want, Devices: devices}, nil
}

// private makes the cache folder root's alone (0700), as a cache of an
// earlier Quarry may not be. A root keeps its image's owners as host ids
// and its modes (a 1777 /var/tmp, a folder of the image's user 1000,
// which is some host account's uid) and is every later job's /: no one
// but root may reach it. A job sees it through its box's idmapped mount,
// which root makes.
func private(cache string) error {
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Stat(cache, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s is not a folder of this user's (uid %d): another could change the roots in it", cache, os.Geteuid())
	}
	return os.Chmod(cache, 0o700)
}

// done says whether dir is an unpacked image: a real folder (not a link)
// with its marker beside it, a regular file.
func done(dir string) bool {
	m, err := os.Lstat(dir + complete)
	if err != nil || !m.Mode().IsRegular() {
		return false
	}
	d, err := os.Lstat(dir)
	return err == nil && d.IsDir()
}

// check hashes the stream without writing anything.
func check(name string, open Opener, want string) error {
	r, err := open()
	if err != nil {
		return fmt.Errorf("buildroot %s: %w", name, err)
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return fmt.Errorf("buildroot %s: %w", name, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != want {
		return &DigestError{Name: name, Want: want, Got: got}
	}
	return nil
}

// lock takes an exclusive lock on path, waiting for it.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// DigestError is an image that is not the one pinned.
type DigestError struct {
	Name, Want, Got string
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("buildroot %s is %s, but %s is pinned: the image changed (pin it again if that is intended)", e.Name, e.Got, e.Want)
}

// extract writes the entries of a tar stream under root and returns how
// many device nodes and FIFOs it left out.
func extract(r io.Reader, root string) (int, error) {
	rootFD, err := unix.Open(root, unix.O_DIRECTORY|unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(rootFD)
	type dirTime struct {
		name  string
		mtime time.Time
	}
	var dirs []dirTime // folder times are set last: their entries change them
	devices := 0
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return devices, err
		}
		name, err := clean(hdr.Name)
		if err != nil {
			return devices, err
		}
		if hdr.Uid < 0 || hdr.Uid > MaxID || hdr.Gid < 0 || hdr.Gid > MaxID {
			return devices, fmt.Errorf("%s: owner %d:%d is outside the ids a build maps (0-%d)", hdr.Name, hdr.Uid, hdr.Gid, MaxID)
		}
		for k := range hdr.PAXRecords {
			if strings.HasPrefix(k, "GNU.sparse.") {
				return devices, fmt.Errorf("%s: a sparse file (%s): not one an image may hold", hdr.Name, k)
			}
		}
		if name == "." {
			continue // the root itself
		}
		parent, base := path.Split(name)
		pfd, err := openDir(rootFD, strings.TrimSuffix(parent, "/"))
		if err != nil {
			return devices, fmt.Errorf("%s: %w", hdr.Name, err)
		}
		mode := uint32(hdr.Mode) & 0o1777 // no setuid or setgid bit
		err = func() error {
			defer unix.Close(pfd)
			switch hdr.Typeflag {
			case tar.TypeDir:
				if err := unix.Mkdirat(pfd, base, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
					return err
				}
				// Owner and mode through the folder itself, opened without
				// following: what is there may be an earlier entry's link.
				fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
				if err != nil {
					return fmt.Errorf("a link or a file is there, not a folder: %w", err)
				}
				err = setOwnerMode(fd, hdr, mode)
				unix.Close(fd)
				if err != nil {
					return err
				}
				dirs = append(dirs, dirTime{name, hdr.ModTime})
				return nil
			case tar.TypeReg:
				if err := replace(pfd, base); err != nil {
					return err
				}
				fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
				if err != nil {
					return err
				}
				f := os.NewFile(uintptr(fd), name)
				_, err = io.Copy(f, tr)
				if err == nil {
					err = setOwnerMode(fd, hdr, mode)
				}
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
			case tar.TypeSymlink:
				if err := replace(pfd, base); err != nil {
					return err
				}
				// Kept as a link, whatever it points at: it is never
				// followed here, and inside a job it resolves in the job's
				// root.
				if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
					return err
				}
				return unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW)
			case tar.TypeLink:
				target, err := clean(hdr.Linkname)
				if err != nil || target == "." {
					return fmt.Errorf("hard link to %q: not a file inside the image", hdr.Linkname)
				}
				tdir, tbase := path.Split(target)
				tfd, err := openDir(rootFD, strings.TrimSuffix(tdir, "/"))
				if err != nil {
					return fmt.Errorf("hard link to %s: %w", hdr.Linkname, err)
				}
				defer unix.Close(tfd)
				var st unix.Stat_t
				if err := unix.Fstatat(tfd, tbase, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
					return fmt.Errorf("hard link to %s: not a regular file the image holds", hdr.Linkname)
				}
				if err := replace(pfd, base); err != nil {
					return err
				}
				return unix.Linkat(tfd, tbase, pfd, base, 0)
			case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
				devices++
				return nil
			default:
				return fmt.Errorf("entry type %q is not one an image may hold", hdr.Typeflag)
			}
			ts := timespecs(hdr.ModTime)
			return unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
		}()
		if err != nil {
			return devices, fmt.Errorf("%s: %w", hdr.Name, err)
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		parent, base := path.Split(dirs[i].name)
		pfd, err := openDir(rootFD, strings.TrimSuffix(parent, "/"))
		if err != nil {
			return devices, err
		}
		ts := timespecs(dirs[i].mtime)
		err = unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
		unix.Close(pfd)
		if err != nil {
			return devices, err
		}
	}
	return devices, nil
}

// timespecs are t as access and modification times (not through
// UnixNano, which overflows past the year 2262).
func timespecs(t time.Time) []unix.Timespec {
	ts := unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
	return []unix.Timespec{ts, ts}
}

// setOwnerMode gives an open file or folder its owner and mode, through
// its descriptor: no name is resolved again.
func setOwnerMode(fd int, hdr *tar.Header, mode uint32) error {
	if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	return unix.Fchmod(fd, mode) // after chown, which clears setuid bits anyway
}

// replace removes what a later entry of the same name replaces (a tar may
// name a path twice; the last one wins, as tar extracts it). A folder is
// not replaced by a file.
func replace(pfd int, base string) error {
	err := unix.Unlinkat(pfd, base, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return err
}

// clean turns an entry's name into a relative path inside the root, or
// refuses it.
func clean(name string) (string, error) {
	n := strings.TrimPrefix(name, "./")
	if n == "" || n == "." || n == "./" {
		return ".", nil
	}
	if strings.HasPrefix(n, "/") {
		return "", fmt.Errorf("%s: an absolute path", name)
	}
	c := path.Clean(n)
	if c == ".." || strings.HasPrefix(c, "../") || strings.Contains(c, "/../") {
		return "", fmt.Errorf("%s: a path that leaves the image", name)
	}
	for _, part := range strings.Split(c, "/") {
		if part == ".." {
			return "", fmt.Errorf("%s: a path that leaves the image", name)
		}
	}
	return c, nil
}

// openDir opens the folder rel under root, one component at a time,
// never through a link, making the components that are missing (0755, as
// tar does for a file whose folder it has not seen).
func openDir(rootFD int, rel string) (int, error) {
	fd, err := unix.Openat(rootFD, ".", unix.O_DIRECTORY|unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if rel == "" || rel == "." {
		return fd, nil
	}
	for _, part := range strings.Split(rel, "/") {
		next, err := unix.Openat(fd, part, unix.O_DIRECTORY|unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			if err := unix.Mkdirat(fd, part, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
				unix.Close(fd)
				return -1, err
			}
			next, err = unix.Openat(fd, part, unix.O_DIRECTORY|unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		}
		unix.Close(fd)
		if err != nil {
			if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
				return -1, fmt.Errorf("%s is a link or not a folder: not followed", part)
			}
			return -1, err
		}
		fd = next
	}
	return fd, nil
}
