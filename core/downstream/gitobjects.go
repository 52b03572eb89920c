package downstream

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/quarrylinux/quarry/core/store"
)

// writeTree stores a package tree as git objects and returns the root tree
// hash. Lookaside files are left out and listed, by sha256, in
// .<name>.metadata, the CentOS dist-git convention.
func writeTree(s storer.EncodedObjectStorer, name string, t store.Tree) (plumbing.Hash, error) {
	files := map[string]*store.File{}
	var meta bytes.Buffer
	for _, p := range t.Paths() {
		f := t[p]
		if f.Lookaside {
			fmt.Fprintf(&meta, "%s %s\n", store.Digest(f.Data), p)
			continue
		}
		files[p] = f
	}
	if meta.Len() > 0 {
		files["."+name+".metadata"] = &store.File{Data: meta.Bytes()}
	}
	return writeDir(s, files)
}

// writeDir writes the files (paths relative to this folder) as one tree
// object, recursing into subfolders.
func writeDir(s storer.EncodedObjectStorer, files map[string]*store.File) (plumbing.Hash, error) {
	subdirs := map[string]map[string]*store.File{}
	var entries []object.TreeEntry
	for p, f := range files {
		if dir, rest, ok := strings.Cut(p, "/"); ok {
			if subdirs[dir] == nil {
				subdirs[dir] = map[string]*store.File{}
			}
			subdirs[dir][rest] = f
			continue
		}
		h, err := writeBlob(s, f.Data)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		mode := filemode.Regular
		if f.Exec {
			mode = filemode.Executable
		}
		entries = append(entries, object.TreeEntry{Name: p, Mode: mode, Hash: h})
	}
	for dir, sub := range subdirs {
		h, err := writeDir(s, sub)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, object.TreeEntry{Name: dir, Mode: filemode.Dir, Hash: h})
	}
	// git orders entries by name, a folder's name compared as if it ended in "/".
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
	return storeObject(s, &object.Tree{Entries: entries})
}

// encoder is what go-git's tree and commit objects implement.
type encoder interface {
	Encode(plumbing.EncodedObject) error
}

// storeObject encodes a tree or commit into the object store.
func storeObject(s storer.EncodedObjectStorer, e encoder) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	if err := e.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

func writeBlob(s storer.EncodedObjectStorer, data []byte) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}
