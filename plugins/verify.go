package plugins

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/quarrylinux/quarry/core/store"
)

// verified checks the SIG's binary at path against the sha256 the lock
// pins and returns a host-owned copy of exactly those bytes, which is what
// runs: the file at path cannot change between the check and the exec.
//
// The copy lives under Work/bin/<sha256>/. Beside it, "checked" records
// the binary's identity (device, inode, size, mtime, ctime) when it last
// hashed right; a binary whose identity is unchanged is not read again,
// the way git's index trusts an unchanged stat. Any write to the file
// changes its ctime, which no user can set back.
//
// An empty want (a dev override) takes whatever the bytes read hash to:
// they are hashed once, and that is what runs.
func (h *Host) verified(sig, path, want string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	id := identity(st)
	if want != "" {
		bin := filepath.Join(h.Work, "bin", want, BinaryName(sig))
		if seen, err := os.ReadFile(filepath.Join(h.Work, "bin", want, "checked")); err == nil && string(seen) == id {
			if cst, err := os.Stat(bin); err == nil && cst.Size() == st.Size() {
				return bin, nil
			}
		}
	}
	// A private copy, hashed and then written: what runs is exactly what
	// was hashed, whatever happens to the file at path meanwhile.
	data, err := readBinary(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	switch {
	case want == "":
		want = got
	case got != want:
		return "", fmt.Errorf("%s: %w (it is %s, the lock says %s); if the change is yours, run quarry plugin lock", path, ErrHashMismatch, got, want)
	}
	dir := filepath.Join(h.Work, "bin", want)
	bin := filepath.Join(dir, BinaryName(sig))
	checked := filepath.Join(dir, "checked")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if cst, err := os.Stat(bin); err != nil || cst.Size() != int64(len(data)) {
		// No fork while the copy is open for writing: a child forked in
		// that window holds the write descriptor until it execs, and an
		// exec of the copy meanwhile fails with "text file busy" (Go
		// issue 22315). os/exec holds ForkLock for reading when it forks.
		syscall.ForkLock.Lock()
		err := store.WriteFile(bin, data, 0o555)
		syscall.ForkLock.Unlock()
		if err != nil {
			return "", err
		}
	}
	return bin, store.WriteFile(checked, []byte(id), 0o644)
}

// identity is what changes whenever a file's content can have changed.
func identity(st os.FileInfo) string {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d %d %d %d.%d %d.%d", sys.Dev, sys.Ino, sys.Size, sys.Mtim.Sec, sys.Mtim.Nsec, sys.Ctim.Sec, sys.Ctim.Nsec)
}

// readBinary reads a plugin binary into memory of the host's own (not a
// shared mapping, which a writer could change after the hash, or
// truncate under the reader).
func readBinary(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return io.ReadAll(io.LimitReader(f, maxBinary+1))
}

// maxBinary bounds a plugin binary: far above any real one.
const maxBinary = 1 << 30
