package publish

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/treefs"
)

const (
	// ManifestFile is the compose manifest's name in a compose.
	ManifestFile = "manifest.json"
	// SignatureFile is the manifest's detached signature, by the core key.
	SignatureFile = ManifestFile + ".asc"
)

// Manifest lists every file of a compose with its digest: the artifacts
// and images with theirs, and every other file in Files. Signed with the
// core key (manifest.json.asc), it covers the whole compose: a file it
// does not list is one nobody signed.
type Manifest struct {
	Distribution string               `json:"distribution"`
	Version      string               `json:"version"`
	Key          string               `json:"key_fingerprint"`
	Artifacts    []*compose.Published `json:"artifacts"`
	Repositories []string             `json:"repositories"`
	// Images are the SIGs' installers: kickstarts and built images, with
	// the packages each contains.
	Images []Image `json:"images,omitempty"`
	// Files are the compose's other regular files (keys, repodata,
	// provenance, sigs.json, ...), sorted by path.
	Files []File `json:"files"`
}

// Image is one installer artifact of a compose.
type Image struct {
	SIG       string   `json:"sig"`
	Installer string   `json:"installer"`
	Kind      string   `json:"kind"`
	Path      string   `json:"path"`
	SHA256    string   `json:"sha256"`
	MediaType string   `json:"media_type,omitempty"`
	Packages  []string `json:"packages,omitempty"`
}

// artifactKey orders artifacts: by where they are published (a path is
// one artifact's), then by file.
func artifactKey(a *compose.Published) string {
	if len(a.Paths) > 0 {
		return a.Paths[0] + "\x00" + a.File
	}
	return "\x00" + a.File
}

// File is one more file of a compose.
type File struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Write lists every file of the compose in dir that the artifacts and
// images do not, and writes the manifest and its signature by key, dated
// at (the same manifest and key give the same bytes). A compose holds
// regular files and folders only: anything else is an error, not
// something to publish.
func (m *Manifest) Write(dir string, key *sign.Key, at time.Time) error {
	// The same compose makes the same manifest, whatever order its jobs
	// finished in.
	slices.SortFunc(m.Artifacts, func(a, b *compose.Published) int { return cmp.Compare(artifactKey(a), artifactKey(b)) })
	slices.SortFunc(m.Images, func(a, b Image) int { return cmp.Compare(a.Path, b.Path) })
	slices.Sort(m.Repositories)
	listed := map[string]bool{ManifestFile: true, SignatureFile: true}
	for _, a := range m.Artifacts {
		for _, p := range a.Paths {
			listed[p] = true
		}
	}
	for _, img := range m.Images {
		listed[img.Path] = true
	}
	t, err := treefs.Open(dir)
	if err != nil {
		return err
	}
	defer t.Close()
	m.Files = []File{}
	err = t.Walk(func(e treefs.Entry) error {
		switch {
		case e.Type == fs.ModeDir || listed[e.Path]:
			return nil
		case !e.Regular():
			return fmt.Errorf("%s: %s; a compose holds only regular files and folders", t.Path(e.Path), e.Kind())
		}
		data, err := t.ReadFile(e.Path)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, File{Path: e.Path, SHA256: store.Digest(data)})
		return nil
	})
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	asc, err := key.ArmoredDetached(data, at)
	if err != nil {
		return fmt.Errorf("sign %s: %w", ManifestFile, err)
	}
	if err := store.WriteFile(filepath.Join(dir, ManifestFile), data, 0o644); err != nil {
		return err
	}
	return store.WriteFile(filepath.Join(dir, SignatureFile), asc, 0o644)
}

// CheckSigned reads name and name.asc from the tree and checks the
// signature against keyring: it returns the file and the key that signed
// it, or a *sign.FileError naming the file.
func CheckSigned(t *treefs.FS, name string, keyring openpgp.KeyRing, candidates openpgp.EntityList) ([]byte, *openpgp.Entity, error) {
	data, err := t.ReadFile(name)
	if err != nil {
		return nil, nil, &sign.FileError{File: t.Path(name), Err: err}
	}
	asc, err := t.ReadFile(name + ".asc")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, &sign.FileError{File: t.Path(name), Err: fmt.Errorf("not signed: no %s.asc beside it", path.Base(name))}
	}
	if err != nil {
		return nil, nil, &sign.FileError{File: t.Path(name + ".asc"), Err: err}
	}
	signer, err := sign.CheckFile(keyring, t.Path(name), data, asc, candidates)
	return data, signer, err
}

// ReadManifest reads a compose's manifest and checks its signature: it
// returns the manifest and the key that signed it.
func ReadManifest(t *treefs.FS, keyring openpgp.KeyRing, candidates openpgp.EntityList) (*Manifest, *openpgp.Entity, error) {
	data, signer, err := CheckSigned(t, ManifestFile, keyring, candidates)
	if err != nil {
		return nil, nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", t.Path(ManifestFile), err)
	}
	return &m, signer, nil
}

// Digests maps every file the manifest lists (artifacts, images, files)
// to its sha256. A path that is not a clean path inside the compose, or
// one listed twice with two digests, is a problem (shown names the
// manifest), and is left out: nothing opens it.
func (m *Manifest) Digests(shown string) (map[string]string, []string) {
	out := map[string]string{}
	var problems []string
	add := func(what, p, sum string) {
		switch old, seen := out[p]; {
		case !treefs.Valid(p):
			problems = append(problems, fmt.Sprintf("%s: %s %q is not a path inside the compose; not opened", shown, what, p))
		case seen && old != sum:
			problems = append(problems, fmt.Sprintf("%s: %s is listed twice with two digests", shown, p))
		default:
			out[p] = sum
		}
	}
	for _, a := range m.Artifacts {
		for _, p := range a.Paths {
			add("the path of "+a.File, p, a.Signed)
		}
	}
	for _, img := range m.Images {
		add("the path of image "+img.Installer, img.Path, img.SHA256)
	}
	for _, f := range m.Files {
		add("file", f.Path, f.SHA256)
	}
	return out, problems
}
