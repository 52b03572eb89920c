// Package lock reads and writes quarry.lock, which pins every input of the
// core: per package, the upstream commit (or SRPM digest), every source
// file's hash, the patch repository commits and the digest of the debranded
// tree. The file is JSON with sorted keys and no timestamps, so an import
// that finds nothing new leaves it byte-identical.
package lock

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/quarrylinux/quarry/core/store"
)

// FormatVersion is the lock file's format version.
const FormatVersion = 1

// Lock is a decoded quarry.lock.
type Lock struct {
	Version  int                 `json:"version"`
	Packages map[string]*Package `json:"packages"`
	// Buildroots pins each arch's buildroot image: an OCI image's manifest
	// digest, a tarball's tar stream's (core/buildroot.Digest).
	Buildroots map[string]*Buildroot `json:"buildroots,omitempty"`
}

// Buildroot pins one arch's buildroot image.
type Buildroot struct {
	Image  string `json:"image"`  // as the config names it, resolved
	Digest string `json:"digest"` // sha256:<hex>
}

// Package pins one source package.
type Package struct {
	Upstream Upstream `json:"upstream"`
	// Sources maps every file of the upstream tree to its sha256.
	Sources map[string]string `json:"sources"`
	// UpstreamTree is the digest of the tree as imported, before debranding.
	UpstreamTree string `json:"upstream_tree"`
	// Patches pins the debranding repository, when the package has one.
	Patches *Patches `json:"patches,omitempty"`
	// Tree is the digest of the debranded tree: what the build consumes.
	Tree string `json:"tree"`
	// NVR is the debranded package's name-version-release, dist tag aside.
	NVR string `json:"nvr"`
}

// Upstream says where a package came from.
type Upstream struct {
	Kind   string `json:"kind"` // dist-git or srpm
	URL    string `json:"url"`
	Layout string `json:"layout,omitempty"` // centos or stream, for dist-git
	// Ref is what was asked for: a branch, a tag or a commit.
	Ref    string `json:"ref,omitempty"`
	Commit string `json:"commit,omitempty"`
	// Pinned marks a ref given with `quarry import PKG@REF`; later imports
	// keep it until `quarry import --unpin PKG`.
	Pinned bool   `json:"pinned,omitempty"`
	SHA256 string `json:"sha256,omitempty"` // of the SRPM
}

// Patches pins a patch repository: the commit of each branch applied.
type Patches struct {
	URL string `json:"url"`
	// Commits maps branch (main, then the target branch) to commit.
	Commits map[string]string `json:"commits"`
}

// New returns an empty lock.
func New() *Lock {
	return &Lock{Version: FormatVersion, Packages: map[string]*Package{}}
}

// Load reads path; a missing file is an empty lock.
func Load(path string) (*Lock, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return New(), nil
	}
	if err != nil {
		return nil, err
	}
	l := New()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(l); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if l.Version != FormatVersion {
		return nil, fmt.Errorf("%s: format version %d, this Quarry reads %d", path, l.Version, FormatVersion)
	}
	if l.Packages == nil {
		l.Packages = map[string]*Package{}
	}
	return l, nil
}

// Marshal is the lock's canonical bytes.
func (l *Lock) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Save writes the lock to path atomically (aside, then renamed into place)
// and only when its bytes change. It reports whether it wrote.
func (l *Lock) Save(path string) (bool, error) {
	data, err := l.Marshal()
	if err != nil {
		return false, err
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	if err := store.WriteFile(path, data, 0o644); err != nil {
		return false, err
	}
	return true, nil
}

// Clone is a deep copy of the lock, for a run to change until it commits.
func (l *Lock) Clone() *Lock {
	data, err := json.Marshal(l)
	if err != nil {
		panic(fmt.Sprintf("lock: %v", err)) // plain data: it always marshals
	}
	c := New()
	if err := json.Unmarshal(data, c); err != nil {
		panic(fmt.Sprintf("lock: %v", err))
	}
	return c
}

// Digest is the sha256 of the lock's canonical bytes: what a run was
// made from, in its history and its recorded build.
func (l *Lock) Digest() string {
	data, err := l.Marshal()
	if err != nil {
		panic(fmt.Sprintf("lock: %v", err))
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
