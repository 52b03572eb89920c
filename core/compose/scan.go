package compose

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// ScanDir lists the RPMs under dir (skipping repodata and dot folders) as
// inputs, with hrefs relative to dir. Symbolic links are followed, to files
// and to folders, as createrepo_c follows them, unless skipLinks; the href
// is the link's place in dir, and a folder reached twice (a loop) is read
// once. A *.rpm that cannot be stat'ed (a dangling link) is a bad input.
func ScanDir(dir string, skipLinks bool) ([]Input, []*PackageError, error) {
	s := &scan{root: dir, skipLinks: skipLinks, seen: map[[2]uint64]bool{}}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, nil, err
	}
	s.visit(st)
	if err := s.walk(dir); err != nil {
		return nil, nil, err
	}
	return s.inputs, s.bad, s.stat()
}

type scan struct {
	root      string
	skipLinks bool
	seen      map[[2]uint64]bool // folders by device and inode
	inputs    []Input
	bad       []*PackageError
	unstated  []int // inputs whose size and mtime stat fills in
}

// stat fills in the sizes and mtimes of the inputs found as files, several
// at once.
func (s *scan) stat() error {
	errs := make([]error, workers())
	var wg sync.WaitGroup
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(s.unstated); i += len(errs) {
				in := &s.inputs[s.unstated[i]]
				st, err := os.Lstat(in.Path)
				if err != nil {
					errs[w] = err
					return
				}
				in.Size, in.MTime, in.Stamp = st.Size(), st.ModTime().Unix(), stamp(st)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// visit marks a folder seen and says whether it was new.
func (s *scan) visit(st os.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	id := [2]uint64{uint64(sys.Dev), sys.Ino}
	if s.seen[id] {
		return false
	}
	s.seen[id] = true
	return true
}

func (s *scan) walk(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, d := range entries {
		path := filepath.Join(dir, d.Name())
		mode := d.Type()
		var st os.FileInfo
		if mode&os.ModeSymlink != 0 {
			if s.skipLinks {
				continue
			}
			if st, err = os.Stat(path); err != nil {
				if strings.HasSuffix(d.Name(), ".rpm") {
					s.bad = append(s.bad, &PackageError{Href: s.href(path), Err: fmt.Errorf("%s: %w", path, err)})
				}
				continue
			}
			mode = st.Mode().Type()
		}
		switch {
		case mode.IsDir():
			if d.Name() == "repodata" || d.Name()[0] == '.' {
				continue
			}
			if st == nil {
				if st, err = os.Stat(path); err != nil {
					return err
				}
			}
			if !s.visit(st) {
				continue
			}
			if err := s.walk(path); err != nil {
				return err
			}
		case mode.IsRegular() && strings.HasSuffix(d.Name(), ".rpm"):
			in := Input{Href: s.href(path), Path: path}
			if st != nil {
				in.Size, in.MTime, in.Stamp = st.Size(), st.ModTime().Unix(), stamp(st)
			} else {
				s.unstated = append(s.unstated, len(s.inputs))
			}
			s.inputs = append(s.inputs, in)
		}
	}
	return nil
}

func (s *scan) href(path string) string {
	rel, err := filepath.Rel(s.root, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}

// stamp folds a file's mtime and ctime, in nanoseconds, and inode: what
// changes when the file is rewritten or replaced, even within a second.
func stamp(st os.FileInfo) int64 {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return st.ModTime().UnixNano()
	}
	const prime = 1099511628211 // FNV's: each value moves every bit after it
	h := uint64(st.ModTime().UnixNano())
	h = h*prime ^ uint64(sys.Ctim.Nano())
	h = h*prime ^ sys.Ino
	return int64(h)
}
