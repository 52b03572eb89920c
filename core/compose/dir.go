package compose

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/quarrylinux/quarry/core/store"
)

// DirResult says what indexing a folder did.
type DirResult struct {
	Packages int // in the repository
	Read     int // RPMs whose headers were read (new or changed)
	Repomd   []byte
}

// IndexDir writes DIR/repodata for every RPM under dir, like createrepo_c.
// With update, per-package metadata cached in cacheDir from the last run
// is reused for files whose size and mtime have not changed.
func IndexDir(dir, cacheDir string, update bool, opts Options) (*DirResult, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	inputs, err := ScanDir(abs)
	if err != nil {
		return nil, err
	}
	cache := filepath.Join(cacheDir, store.Digest([]byte(abs))[:16]+".index")
	idx := &Index{Entries: map[string]*Entry{}}
	if update {
		idx = LoadIndex(cache)
	}
	entries, read, err := idx.Update(inputs)
	if err != nil {
		return nil, err
	}
	repomd, err := WriteRepodata(abs, entries, opts)
	if err != nil {
		return nil, err
	}
	if err := idx.Save(cache); err != nil {
		return nil, fmt.Errorf("save the metadata cache: %w", err)
	}
	return &DirResult{Packages: len(entries), Read: read, Repomd: repomd}, nil
}
