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
// a draft, unchanged: its sig/<sig> and images/<sig> trees, its key and
// the provenance of its artifacts. It returns those artifacts' and
// images' manifest entries. A SIG that
// fails this run keeps serving what it served; with no previous compose,
// or none of the SIG in it, there is nothing to carry.
func Carry(prev, draft, sig, keyName string) ([]*compose.Published, []Image, error) {
	if prev == "" {
		return nil, nil, nil
	}
	data, err := os.ReadFile(filepath.Join(prev, ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, err
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
	var images []Image
	for _, img := range m.Images {
		if img.SIG == sig {
			images = append(images, img)
		}
	}
	if len(out) == 0 {
		return nil, nil, nil
	}
	for _, tree := range []string{filepath.Join(prev, "sig", sig), filepath.Join(prev, "images", sig)} {
		err = filepath.WalkDir(tree, func(p string, d os.DirEntry, err error) error {
			if errors.Is(err, os.ErrNotExist) {
				return filepath.SkipDir
			}
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(prev, p)
				files[rel] = true
			}
			return err
		})
		if err != nil {
			return nil, nil, err
		}
	}
	for rel := range files {
		dst := filepath.Join(draft, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, nil, err
		}
		if err := store.Link(filepath.Join(prev, rel), dst); err != nil {
			return nil, nil, err
		}
	}
	return out, images, nil
}
