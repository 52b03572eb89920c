package store

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// File is one file of a package tree.
type File struct {
	Data []byte
	// Exec marks an executable file (mode 0755 rather than 0644).
	Exec bool
	// Lookaside marks a file kept out of git (source archives): it is
	// published to a lookaside cache rather than committed.
	Lookaside bool
}

// Tree is a package's files by slash-separated path (SPECS/x.spec,
// SOURCES/x.tar.gz), in memory.
type Tree map[string]*File

// Entry is a Tree file in a manifest.
type Entry struct {
	Path      string `json:"path"`
	Digest    string `json:"sha256"`
	Size      int    `json:"size"`
	Exec      bool   `json:"exec,omitempty"`
	Lookaside bool   `json:"lookaside,omitempty"`
}

// Manifest lists a tree's files sorted by path; its JSON is canonical, so a
// tree's digest depends only on its files.
type Manifest struct {
	Files []Entry `json:"files"`
}

// Clone copies t (file contents are shared: they are never mutated in place).
func (t Tree) Clone() Tree {
	out := make(Tree, len(t))
	for p, f := range t {
		c := *f
		out[p] = &c
	}
	return out
}

// Paths lists the tree's paths, sorted.
func (t Tree) Paths() []string {
	out := make([]string, 0, len(t))
	for p := range t {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Spec is the path of the tree's spec: the one file directly under SPECS/
// (whatever its name: rpmbuild reads a spec of any name, and an SRPM's
// spec is the file rpm flags as one, foo._spec say), or, when SPECS/ holds
// several files, the one among them whose name ends in .spec.
func (t Tree) Spec() (string, error) {
	var all, specs []string
	for _, p := range t.Paths() {
		if name, ok := strings.CutPrefix(p, "SPECS/"); ok && !strings.Contains(name, "/") {
			all = append(all, p)
			if strings.HasSuffix(name, ".spec") {
				specs = append(specs, p)
			}
		}
	}
	switch {
	case len(all) == 1:
		return all[0], nil
	case len(all) == 0:
		return "", fmt.Errorf("no spec file under SPECS/")
	case len(specs) == 1:
		return specs[0], nil
	}
	return "", fmt.Errorf("expected one spec file under SPECS/, found %s", strings.Join(all, ", "))
}

// Manifest describes t.
func (t Tree) Manifest() Manifest {
	m := Manifest{Files: []Entry{}}
	for _, p := range t.Paths() {
		f := t[p]
		m.Files = append(m.Files, Entry{Path: p, Digest: Digest(f.Data), Size: len(f.Data), Exec: f.Exec, Lookaside: f.Lookaside})
	}
	return m
}

// PutTree stores every file of t and its manifest; the manifest's digest is
// the tree's digest.
func (s *Store) PutTree(t Tree) (string, error) {
	for _, p := range t.Paths() {
		if _, err := s.Put(t[p].Data); err != nil {
			return "", fmt.Errorf("store %s: %w", p, err)
		}
	}
	m, err := json.Marshal(t.Manifest())
	if err != nil {
		return "", err
	}
	return s.Put(m)
}

// TreeDigest is the digest PutTree would return, without storing anything.
func TreeDigest(t Tree) string {
	m, _ := json.Marshal(t.Manifest())
	return Digest(m)
}

// GetTree loads the tree whose manifest has digest.
func (s *Store) GetTree(digest string) (Tree, error) {
	raw, err := s.Get(digest)
	if err != nil {
		return nil, fmt.Errorf("tree: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("tree %s: not a manifest: %w", digest, err)
	}
	t := Tree{}
	for _, e := range m.Files {
		data, err := s.Get(e.Digest)
		if err != nil {
			return nil, fmt.Errorf("tree %s: %s: %w", digest, e.Path, err)
		}
		t[e.Path] = &File{Data: data, Exec: e.Exec, Lookaside: e.Lookaside}
	}
	return t, nil
}

// HasTree reports whether the tree and all its files are in the store.
func (s *Store) HasTree(digest string) bool {
	raw, err := s.Get(digest)
	if err != nil {
		return false
	}
	var m Manifest
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	for _, e := range m.Files {
		if !s.Has(e.Digest) {
			return false
		}
	}
	return true
}

// WriteTo writes t's files under dir (a sandbox's folder). Every path is
// checked again here, whatever checked it on the way in: a tree's paths
// come from upstream, a patch repository or a SIG.
func (t Tree) WriteTo(dir string) error {
	for _, p := range t.Paths() {
		if c, err := CleanPath(p); err != nil || c != p {
			return fmt.Errorf("tree path %q: must be clean, relative and inside the tree", p)
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, t[p].Data, t[p].Mode()); err != nil {
			return err
		}
	}
	return nil
}

// Mode is the file mode a tree file is written with.
func (f *File) Mode() fs.FileMode {
	if f.Exec {
		return 0o755
	}
	return 0o644
}

// CleanPath checks that p is a relative path that stays inside the tree and
// returns it cleaned.
func CleanPath(p string) (string, error) {
	c := path.Clean(strings.TrimPrefix(p, "./"))
	if p == "" || path.IsAbs(p) || c == ".." || strings.HasPrefix(c, "../") || c == "." {
		return "", fmt.Errorf("path %q must be relative and stay inside the package", p)
	}
	return c, nil
}
