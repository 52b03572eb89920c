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

// Carried is what Carry took from the previous compose: its manifest
// entries, for the new manifest.
type Carried struct {
	Artifacts []*compose.Published
	Images    []Image
	Repos     []string
}

// Carry links what the previous compose prev published for one SIG into
// a draft, unchanged: its sig/<sig> and images/<sig> trees, its key and
// the provenance of its artifacts. It returns their manifest entries
// (artifacts, images, repositories). A SIG that fails this run keeps serving what
// it served; with no previous compose, or none of the SIG in it, there is
// nothing to carry.
//
// The new compose's manifest will be signed over what is carried, so
// nothing is carried unchecked: prev's manifest must be signed by a key
// of keyring (the core's), and each carried file must be a regular file
// with the digest it lists.
func Carry(prev, draft, sig, keyName string, keyring openpgp.KeyRing) (*Carried, error) {
	if prev == "" {
		return &Carried{}, nil
	}
	t, err := treefs.Open(prev)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	if _, err := t.ReadFile(ManifestFile); errors.Is(err, fs.ErrNotExist) {
		return &Carried{}, nil
	}
	m, _, err := ReadManifest(t, keyring, nil)
	if err != nil {
		return nil, fmt.Errorf("the current publication: %w", err)
	}
	want, problems := m.Digests(t.Path(ManifestFile))
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	out := &Carried{}
	files := map[string]bool{}
	// Its key goes with its packages; a SIG of installers only may have
	// none to carry.
	if _, ok := want["keys/"+keyName]; ok {
		files["keys/"+keyName] = true
	}
	for _, a := range m.Artifacts {
		if a.SIG != sig {
			continue
		}
		out.Artifacts = append(out.Artifacts, a)
		if a.Provenance != "" {
			files[a.Provenance] = true
		}
	}
	for _, img := range m.Images {
		if img.SIG == sig {
			out.Images = append(out.Images, img)
		}
	}
	for _, r := range m.Repositories {
		if strings.HasPrefix(r, "sig/"+sig+"/") {
			out.Repos = append(out.Repos, r)
		}
	}
	if len(out.Artifacts) == 0 && len(out.Images) == 0 {
		return &Carried{}, nil
	}
	if len(out.Artifacts) > 0 && !files["keys/"+keyName] {
		return nil, fmt.Errorf("%s: sig %s's packages without its key keys/%s; not carried", t.Path(ManifestFile), sig, keyName)
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
		return nil, err
	}
	for rel := range files {
		data, err := t.ReadFile(rel)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Path(rel), err)
		}
		if sum, ok := want[rel]; !ok || store.Digest(data) != sum {
			return nil, fmt.Errorf("%s: not the file its signed %s lists; not carried", t.Path(rel), ManifestFile)
		}
		dst := filepath.Join(draft, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		if err := store.Link(t.Path(rel), dst); err != nil {
			return nil, err
		}
	}
	return out, nil
}
