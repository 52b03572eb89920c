package publish

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/provenance"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/store"
)

// Verify checks everything a user can check of a published compose
// offline, against the keys it ships in keys/: every repository's repodata
// checksums and repomd.xml.asc, every RPM's digests and signature, the
// manifest's digests, and each artifact's signed provenance. It returns
// one line per problem, naming the file.
func Verify(dir string) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real // out/current is a symlink; walk what it points at
	}
	keyFiles, _ := filepath.Glob(filepath.Join(dir, "keys", "*"))
	var ring openpgp.EntityList
	for _, f := range keyFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			add("%s: %v", f, err)
			continue
		}
		keys, err := sign.Keyring(data)
		if err != nil {
			add("%s: not a public key: %v", f, err)
			continue
		}
		ring = append(ring, keys...)
	}
	if len(ring) == 0 {
		add("%s: no public key under keys/: nothing can be verified", dir)
		return problems
	}
	var repos []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "repodata" {
			repos = append(repos, filepath.Dir(path))
			return filepath.SkipDir
		}
		return nil
	})
	sort.Strings(repos)
	if len(repos) == 0 {
		add("%s: no repositories", dir)
	}
	for _, repo := range repos {
		problems = append(problems, compose.CheckRepodata(repo)...)
		md := filepath.Join(repo, "repodata", "repomd.xml")
		data, err := os.ReadFile(md)
		if err != nil {
			continue
		}
		asc, err := os.ReadFile(md + ".asc")
		if err != nil {
			add("%s: not signed: %v", md, err)
		} else if err := sign.CheckDetached(ring, data, asc); err != nil {
			add("%s.asc: does not verify: %v", md, err)
		}
	}
	rpms := map[string]string{} // path → sha256, each RPM read once
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rpm") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			add("%s: %v", path, err)
			return nil
		}
		rpms[path] = store.Digest(data)
		if err := sign.VerifyRPM(ring, path, data); err != nil {
			add("%v", err)
		}
		return nil
	})
	problems = append(problems, verifyManifest(dir, ring, rpms)...)
	return problems
}

// ManifestFile is the compose manifest's name in a compose.
const ManifestFile = "manifest.json"

// Manifest lists every artifact of a compose with its digests and paths.
type Manifest struct {
	Distribution string               `json:"distribution"`
	Version      string               `json:"version"`
	Key          string               `json:"key_fingerprint"`
	Artifacts    []*compose.Published `json:"artifacts"`
	Repositories []string             `json:"repositories"`
	// Images are the SIGs' installers: kickstarts and built images, with
	// the packages each contains.
	Images []Image `json:"images,omitempty"`
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

// Write writes the manifest into a compose folder.
func (m *Manifest) Write(dir string) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return store.WriteFile(filepath.Join(dir, ManifestFile), append(data, '\n'), 0o644)
}

// verifyManifest checks the manifest against the compose: every listed
// file has its signed digest, every RPM on disk is listed, and every
// artifact's provenance is signed and names it.
func verifyManifest(dir string, ring openpgp.KeyRing, rpms map[string]string) []string {
	path := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", path, err)}
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return []string{fmt.Sprintf("%s: %v", path, err)}
	}
	var problems []string
	// check compares a listed file's sha256 with the manifest's, using
	// the digest of an RPM the walk already read.
	check := func(rel, want string) string {
		full := filepath.Join(dir, filepath.FromSlash(rel))
		got, ok := rpms[full]
		if !ok {
			data, err := os.ReadFile(full)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: listed in %s: %v", full, ManifestFile, err))
				return full
			}
			got = store.Digest(data)
		}
		if got != want {
			problems = append(problems, fmt.Sprintf("%s: sha256 differs from %s", full, ManifestFile))
		}
		return full
	}
	listed := map[string]bool{}
	for _, a := range m.Artifacts {
		for _, p := range a.Paths {
			listed[check(p, a.Signed)] = true
		}
	}
	for _, img := range m.Images {
		check(img.Path, img.SHA256)
	}
	for _, f := range slices.Sorted(maps.Keys(rpms)) {
		if !listed[f] {
			problems = append(problems, fmt.Sprintf("%s: not listed in %s (no provenance)", f, ManifestFile))
		}
	}
	return append(problems, provenance.Check(ring, dir, m.Artifacts)...)
}
