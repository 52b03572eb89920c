package compose

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/quarrylinux/quarry/core/store"
)

// DirOptions say how IndexDir treats a folder.
type DirOptions struct {
	Options
	// CacheDir holds the per-package metadata cache; Update reuses the
	// entries of files whose size and mtime have not changed.
	CacheDir string
	Update   bool
	// SkipBad indexes the other packages when some cannot be read,
	// reporting them in Skipped; without it nothing is written.
	SkipBad bool
	// SkipSymlinks ignores symbolic links instead of following them.
	SkipSymlinks bool
}

// DirResult says what indexing a folder did.
type DirResult struct {
	Packages int // in the repository
	Read     int // RPMs whose headers were read (new or changed)
	Repomd   []byte
	// Skipped are the packages left out because they could not be read
	// (with SkipBad).
	Skipped []*PackageError
	// Duplicates are the NEVRAs several files share, with their hrefs:
	// all are indexed, as createrepo_c indexes them.
	Duplicates map[string][]string
}

// BadPackagesError is every package of a folder that could not be read,
// when that fails the index: nothing was written.
type BadPackagesError struct {
	Dir string
	Bad []*PackageError
}

func (e *BadPackagesError) Error() string {
	msg := fmt.Sprintf("%d of the RPMs in %s cannot be indexed (nothing was written; --skip-bad indexes the others):", len(e.Bad), e.Dir)
	for _, b := range e.Bad {
		msg += "\n  " + b.Error()
	}
	return msg
}

// Unwrap lets errors.As find each package's error.
func (e *BadPackagesError) Unwrap() []error {
	out := make([]error, len(e.Bad))
	for i, b := range e.Bad {
		out[i] = b
	}
	return out
}

// IndexDir writes DIR/repodata for every RPM under dir, as createrepo_c
// does. A package that cannot be read fails the whole index, naming every
// such package and leaving the repodata there as it was, unless SkipBad.
func IndexDir(dir string, opts DirOptions) (*DirResult, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	cache := filepath.Join(opts.CacheDir, store.Digest([]byte(abs))[:16]+".index")
	loaded := make(chan *Index, 1) // the cache loads while the folder is walked
	go func() {
		if opts.Update {
			loaded <- LoadIndex(cache)
		} else {
			loaded <- &Index{Entries: map[string]*Entry{}}
		}
	}()
	inputs, bad, err := ScanDir(abs, opts.SkipSymlinks)
	idx := <-loaded
	if err != nil {
		return nil, err
	}
	before := len(idx.Entries)
	up := idx.Update(inputs)
	bad = append(bad, up.Bad...)
	sort.Slice(bad, func(i, j int) bool { return bad[i].Href < bad[j].Href })
	if len(bad) > 0 && !opts.SkipBad {
		return nil, &BadPackagesError{Dir: dir, Bad: bad}
	}
	res := &DirResult{Read: up.Read, Skipped: bad, Duplicates: map[string][]string{}}
	for _, g := range Duplicates(up.Entries) {
		for _, e := range g {
			res.Duplicates[e.NEVRA] = append(res.Duplicates[e.NEVRA], e.Href)
		}
	}
	spans := &spanCache{old: idx.spans, used: map[spanKey][]byte{}}
	opts.spans = spans
	repomd, err := WriteRepodata(abs, up.Entries, opts.Options)
	if err != nil {
		return nil, err
	}
	// An update that read nothing and kept as many entries and spans as
	// it loaded kept them all: the saved cache is current.
	idx.spans = spans.used
	if up.Read > 0 || len(idx.Entries) != before || len(spans.used) != len(spans.old) || !opts.Update {
		if err := idx.Save(cache); err != nil {
			return nil, fmt.Errorf("save the metadata cache: %w", err)
		}
	}
	res.Packages, res.Repomd = len(up.Entries), repomd
	return res, nil
}
