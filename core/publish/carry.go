package publish

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/store"
)

// Carry links what the previous compose prev published for one SIG into
// a draft, unchanged: its sig/<sig> tree, its key and the provenance of
// its artifacts. It returns those artifacts' manifest entries. A SIG that
// fails this run keeps serving what it served; with no previous compose,
// or none of the SIG in it, there is nothing to carry.
func Carry(prev, draft, sig, keyName string) ([]*compose.Published, error) {
	if prev == "" {
		return nil, nil
	}
	data, err := os.ReadFile(filepath.Join(prev, ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	var out []*compose.Published
	files := map[string]bool{filepath.Join("keys", keyName): true}
	for _, a := range m.Artifacts {
		if a.SIG != sig {
			continue
		}
		out = append(out, a)
		if a.Provenance != "" {
			files[filepath.FromSlash(a.Provenance)] = true
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	root := filepath.Join(prev, "sig", sig)
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(prev, p)
			files[rel] = true
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for rel := range files {
		dst := filepath.Join(draft, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		if err := store.Link(filepath.Join(prev, rel), dst); err != nil {
			return nil, err
		}
	}
	return out, nil
}
