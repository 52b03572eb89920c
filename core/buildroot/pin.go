package buildroot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	qlock "github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/store"
)

// ChangedError is an image whose digest is not the one quarry.lock pins:
// builds refuse it until it is pinned again.
type ChangedError struct {
	Arch, Image, Pinned, Found string
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("buildroot %s: %s is %s, but quarry.lock pins %s: the image changed; "+
		"if that is meant, pin it again with `quarry buildroot pin %s`", e.Arch, e.Image, e.Found, e.Pinned, e.Arch)
}

// UnpinnedError is an arch whose image quarry.lock does not pin yet.
type UnpinnedError struct{ Arch, Image string }

func (e *UnpinnedError) Error() string {
	return fmt.Sprintf("buildroot %s: %s is not pinned in quarry.lock (quarry import pins it, or `quarry buildroot pin %s`)", e.Arch, e.Image, e.Arch)
}

// Check compares arch's image, whose digest is found, with its pin; an
// image moved to another path with the same content is still the pinned
// one.
func Check(arch, image, found string, pin *qlock.Buildroot) error {
	if pin == nil {
		return &UnpinnedError{Arch: arch, Image: image}
	}
	if pin.Digest != found {
		return &ChangedError{Arch: arch, Image: image, Pinned: pin.Digest, Found: found}
	}
	return nil
}

// Digests remembers images' digests by the identity of their file (device,
// inode, size, modification and change times; of each file in it, for an
// OCI layout folder): hashing a 400 MB image
// takes seconds, and every import and build checks each arch's. A file
// rewritten in place gets a new change time, which no one but root can
// set back.
type Digests struct {
	Path string // a JSON file, the state folder's
	mu   sync.Mutex
}

type fileID struct {
	Dev, Ino, Size, Mtime, Ctime int64
	// Files is, for a folder (an OCI layout), the sha256 of every file's
	// and folder's path and identity in it: a file rewritten in place
	// (index.json, a blob) changes its own times, not the folder's.
	Files string `json:",omitempty"`
}

type digestEntry struct {
	File   fileID `json:"file"`
	Digest string `json:"digest"`
}

// Of is image's digest (Digest), from the cache when the file is the one
// last hashed.
func (d *Digests) Of(image, arch string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	id, err := identify(image)
	if err != nil {
		return "", fmt.Errorf("buildroot %s: %w", image, err)
	}
	cache := map[string]digestEntry{}
	if data, err := os.ReadFile(d.Path); err == nil {
		json.Unmarshal(data, &cache) // a damaged cache is only a slower check
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	key := image + "\x00" + arch
	if e, ok := cache[key]; ok && e.File == id {
		return e.Digest, nil
	}
	digest, err := Digest(image, arch)
	if err != nil {
		return "", err
	}
	// The file may have changed while it was read: remember only a digest
	// of the file as it still is.
	if again, err := identify(image); err == nil && again == id {
		cache[key] = digestEntry{File: id, Digest: digest}
		if data, err := json.MarshalIndent(cache, "", "  "); err == nil {
			store.WriteFile(d.Path, append(data, '\n'), 0o644)
		}
	}
	return digest, nil
}

func identify(path string) (fileID, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return fileID{}, err
	}
	id := fileID{Dev: int64(st.Dev), Ino: int64(st.Ino), Size: st.Size,
		Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano()}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return id, nil
	}
	h := sha256.New()
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil { // a link's target: what is read
			return err
		}
		rel, _ := filepath.Rel(path, p)
		fmt.Fprintf(h, "%q %d %d %d %d %d %d\n", rel, st.Mode, st.Dev, st.Ino, st.Size, st.Mtim.Nano(), st.Ctim.Nano())
		return nil
	})
	if err != nil {
		return fileID{}, err
	}
	id.Files = hex.EncodeToString(h.Sum(nil))
	return id, nil
}
