package publish

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/treefs"
)

// Carry links what the previous compose prev published for one SIG into
// a draft, unchanged: its sig/<sig> and images/<sig> trees, its key and
// the provenance of its artifacts. It returns those artifacts' and
// images' manifest entries. A SIG that fails this run keeps serving what
// it served; with no previous compose, or none of the SIG in it, there is
// nothing to carry.
//
// The new compose's manifest will be signed over what is carried, so
// nothing is carried unchecked: prev's manifest must be signed by a key
// of keyring (the core's), and each carried file must be a regular file
// with the digest it lists.
func Carry(prev, draft, sig, keyName string, keyring openpgp.KeyRing) ([]*compose.Published, []Image, error) {
	if prev == "" {
		return nil, nil, nil
	}
	t, err := treefs.Open(prev)
	if err != nil {
		return nil, nil, err
	}
	defer t.Close()
	if _, err := t.ReadFile(ManifestFile); errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	m, _, err := ReadManifest(t, keyring, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("the current publication: %w", err)
	}
	want, problems := m.Digests(t.Path(ManifestFile))
	if len(problems) > 0 {
		return nil, nil, errors.New(strings.Join(problems, "\n"))
	}
	var out []*compose.Published
	files := map[string]bool{"keys/" + keyName: true}
	for _, a := range m.Artifacts {
		if a.SIG != sig {
			continue
		}
		out = append(out, a)
		if a.Provenance != "" {
			files[a.Provenance] = true
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
	err = t.Walk(func(e treefs.Entry) error {
		if strings.HasPrefix(e.Path, "sig/"+sig+"/") || strings.HasPrefix(e.Path, "images/"+sig+"/") {
			if e.Type != fs.ModeDir {
				files[e.Path] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for rel := range files {
		data, err := t.ReadFile(rel)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", t.Path(rel), err)
		}
		if sum, ok := want[rel]; !ok || store.Digest(data) != sum {
			return nil, nil, fmt.Errorf("%s: not the file its signed %s lists; not carried", t.Path(rel), ManifestFile)
		}
		dst := filepath.Join(draft, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, nil, err
		}
		if err := store.Link(t.Path(rel), dst); err != nil {
			return nil, nil, err
		}
	}
	return out, images, nil
}
