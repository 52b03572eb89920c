package publish

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/optin"
	"github.com/quarrylinux/quarry/core/provenance"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/treefs"
)

// Report is what Verify found: one line per problem, naming the file,
// and which key signed what.
type Report struct {
	Dir      string    `json:"compose"` // the compose checked (out/current resolved)
	Problems []string  `json:"problems"`
	Signers  []*Signer `json:"signers"`
	Files    int       `json:"files"` // regular files in the compose
}

// Signer is one key and what Verify found signed by it.
type Signer struct {
	Fingerprint string `json:"fingerprint"`
	UserID      string `json:"user_id"`
	// Trust is why the key is trusted: where the user's trust came from,
	// or, for a SIG's key, the signed sigs.json that names it.
	Trust  string         `json:"trust"`
	SIG    string         `json:"sig,omitempty"`
	Signed map[string]int `json:"signed"` // kind (manifest.json, RPMs, ...) → how many
}

// Kinds of signed things, as reports count them.
const (
	KindManifest   = "manifest.json"
	KindIndex      = "sigs.json"
	KindRepomd     = "repomd.xml"
	KindRPM        = "RPMs"
	KindProvenance = "provenance"
	KindDigest     = "other files by digest"
)

// Verify checks a published compose offline against keys the user
// already trusts; the keys the compose carries are never trusted on
// their own (a pinned fingerprint may take its key from keys/). The
// manifest must be signed by a trusted key, and covers every file: RPMs
// (whose header signatures must be by the core key, or in sig/<sig>/ by
// the SIG's key, which the signed sigs.json names by digest), repodata
// (repomd.xml signed, the files it names with their checksums), signed
// provenance naming each artifact, images and every other file by
// digest. A file nothing covers, a symlink or anything but a regular file
// is a problem, and is never followed or read; so is a path from the
// manifest, provenance or repomd.xml that leaves the compose. Nothing
// outside the compose is opened: dir itself may be a symlink
// (out/current), resolved once.
//
// The error is for a compose that cannot be checked at all: a folder
// that does not open, or no trusted key (sign.ErrNoTrustedKey).
func Verify(dir string, trust *sign.Trust) (*Report, error) {
	t, err := treefs.Open(dir)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	v := &verifier{t: t, trust: trust, r: &Report{Dir: t.Dir(), Problems: []string{}, Signers: []*Signer{}}, regular: map[string]bool{}, odd: map[string]bool{}}
	v.walk()
	v.offerKeys()
	if len(trust.Ring()) == 0 {
		if trust.Pinned() {
			return nil, fmt.Errorf("%w: no key in %s has the pinned fingerprint %s", sign.ErrNoTrustedKey, t.Path("keys"), strings.Join(trust.Unmatched(), ", "))
		}
		return nil, sign.ErrNoTrustedKey
	}
	m, signer, err := ReadManifest(t, trust.Ring(), v.treeKeys)
	if err != nil {
		// Every other digest comes from the manifest: without it, nothing
		// else can be checked (or is worth parsing).
		v.problem("%v; nothing else was checked (trusted: %s)", err, trust.Describe())
		return v.r, nil
	}
	v.core = v.signer(signer, trust.Source(signer), "")
	v.core.Signed[KindManifest]++
	if m.Key != sign.Fingerprint(signer) {
		v.problem("%s: names key %s, but is signed by %s", t.Path(ManifestFile), m.Key, sign.Describe(signer))
	}
	want, problems := m.Digests(t.Path(ManifestFile))
	v.r.Problems = append(v.r.Problems, problems...)
	v.index()
	v.files(want)
	v.repos(m)
	v.provenance(m)
	return v.r, nil
}

type verifier struct {
	t        *treefs.FS
	trust    *sign.Trust
	r        *Report
	regular  map[string]bool // every regular file
	odd      map[string]bool // symlinks, FIFOs, ...: reported, never opened
	treeKeys openpgp.EntityList
	core     *Signer
	coreKey  *openpgp.Entity
	sigs     map[string]*sigKey
	// untrusted says why a SIG's key is not trusted, when sigs.json or
	// the key file failed its check ("" for all: sigs.json did).
	untrusted map[string]string
}

// sigKey is a SIG's key, as the signed sigs.json names it.
type sigKey struct {
	entity *openpgp.Entity
	signer *Signer
}

func (v *verifier) problem(format string, args ...any) {
	v.r.Problems = append(v.r.Problems, fmt.Sprintf(format, args...))
}

// walk lists the compose without following anything.
func (v *verifier) walk() {
	err := v.t.Walk(func(e treefs.Entry) error {
		switch {
		case e.Regular():
			v.regular[e.Path] = true
			v.r.Files++
		case e.Type != fs.ModeDir:
			v.odd[e.Path] = true
			v.problem("%s: %s: not followed; a compose holds only regular files and folders", v.t.Path(e.Path), e.Kind())
		}
		return nil
	})
	if err != nil {
		v.problem("%v", err)
	}
}

// offerKeys reads the compose's keys/: never trusted on their own, they
// name who signed, and give key material to pinned fingerprints.
func (v *verifier) offerKeys() {
	for _, p := range slices.Sorted(maps.Keys(v.regular)) {
		if path.Dir(p) != "keys" {
			continue
		}
		data, err := v.t.ReadFile(p)
		if err != nil {
			continue
		}
		if keys, err := sign.Keyring(data); err == nil {
			v.treeKeys = append(v.treeKeys, keys...)
		}
		v.trust.Offer(data, v.t.Path(p))
	}
}

func (v *verifier) signer(e *openpgp.Entity, trust, sig string) *Signer {
	s := &Signer{Fingerprint: sign.Fingerprint(e), UserID: sign.UserID(e), Trust: trust, SIG: sig, Signed: map[string]int{}}
	v.r.Signers = append(v.r.Signers, s)
	if sig == "" {
		v.coreKey = e
	}
	return s
}

// index checks sigs.json, signed by the core key, and takes from it the
// SIGs' keys: each trusted for its own sig/<sig>/ only, and only when the
// key file has the digest the index gives.
func (v *verifier) index() {
	v.sigs, v.untrusted = map[string]*sigKey{}, map[string]string{}
	if !v.regular[optin.IndexFile] {
		return
	}
	v.untrusted[""] = optin.IndexFile + ", which names it, does not verify"
	data, err := v.t.ReadFile(optin.IndexFile)
	if err != nil {
		v.problem("%s: %v", v.t.Path(optin.IndexFile), err)
		return
	}
	asc, err := v.t.ReadFile(optin.SignatureFile)
	if err != nil {
		v.problem("%s: not signed: %v", v.t.Path(optin.IndexFile), err)
		return
	}
	x, _, err := optin.Parse(v.t.Path(optin.IndexFile), data, asc, openpgp.EntityList{v.coreKey}, v.treeKeys)
	if err != nil {
		v.problem("%v", err)
		return
	}
	delete(v.untrusted, "")
	v.core.Signed[KindIndex]++
	for _, s := range x.SIGs {
		if s.KeySHA256 == "" {
			continue // a SIG with no key publishes nothing signed
		}
		rel := "keys/" + s.Key
		v.untrusted[s.Name] = rel + " is not the key " + optin.IndexFile + " names"
		pub, err := v.t.ReadFile(rel)
		if err != nil {
			v.problem("%s: SIG %s's key, named in %s: %v", v.t.Path(rel), s.Name, optin.IndexFile, err)
			continue
		}
		keys, err := sign.Keyring(pub)
		if store.Digest(pub) != s.KeySHA256 || err != nil || len(keys) != 1 || sign.Fingerprint(keys[0]) != s.KeyFingerprint {
			v.problem("%s: not the key %s names for SIG %s (sha256 %s, fingerprint %s)", v.t.Path(rel), optin.IndexFile, s.Name, s.KeySHA256, s.KeyFingerprint)
			continue
		}
		delete(v.untrusted, s.Name)
		v.sigs[s.Name] = &sigKey{keys[0], v.signer(keys[0], "SIG "+s.Name+"'s key, named in the signed "+optin.IndexFile, s.Name)}
	}
}

// keyFor is the key whatever lies at rel must be signed with: a SIG's in
// sig/<sig>/, the core's elsewhere (sig/release holds the core's release
// packages for the SIGs).
func (v *verifier) keyFor(rel string) (*openpgp.Entity, *Signer, error) {
	parts := strings.SplitN(rel, "/", 3)
	if len(parts) < 3 || parts[0] != "sig" || "sig/"+parts[1] == compose.SIGReleaseDir {
		return v.coreKey, v.core, nil
	}
	k := v.sigs[parts[1]]
	if why, ok := v.untrusted[""]; ok && k == nil {
		return nil, nil, fmt.Errorf("SIG %s's key is not trusted: %s", parts[1], why)
	}
	if why, ok := v.untrusted[parts[1]]; ok {
		return nil, nil, fmt.Errorf("SIG %s's key is not trusted: %s", parts[1], why)
	}
	if k == nil {
		return nil, nil, fmt.Errorf("SIG %s has no key in the signed %s", parts[1], optin.IndexFile)
	}
	return k.entity, k.signer, nil
}

// files checks every regular file against the digest the manifest gives
// it, and every RPM's header signature; a file the manifest does not list
// is covered by no signature, and is not read.
func (v *verifier) files(want map[string]string) {
	for _, rel := range slices.Sorted(maps.Keys(v.regular)) {
		if rel == ManifestFile || rel == SignatureFile {
			continue
		}
		sum, ok := want[rel]
		if !ok {
			v.problem("%s: not covered by any signature: %s does not list it", v.t.Path(rel), ManifestFile)
			continue
		}
		if !strings.HasSuffix(rel, ".rpm") {
			// Images can be large: hashed as they are read.
			if got, err := v.digest(rel); err != nil {
				v.problem("%v", err)
			} else if got != sum {
				v.problem("%s: sha256 differs from %s", v.t.Path(rel), ManifestFile)
			} else {
				v.core.Signed[KindDigest]++
			}
			continue
		}
		data, err := v.t.ReadFile(rel)
		if err != nil {
			v.problem("%v", err)
			continue
		}
		if store.Digest(data) != sum {
			v.problem("%s: sha256 differs from %s", v.t.Path(rel), ManifestFile)
			continue
		}
		key, s, err := v.keyFor(rel)
		if err != nil {
			v.problem("%s: %v", v.t.Path(rel), err)
			continue
		}
		if _, err := sign.RPMSigner(openpgp.EntityList{key}, v.t.Path(rel), data); err != nil {
			v.problem("%v; RPMs here must be signed by %s", v.name(err), sign.Describe(key))
			continue
		}
		s.Signed[KindRPM]++
	}
	for _, rel := range slices.Sorted(maps.Keys(want)) {
		if !v.regular[rel] && !v.odd[rel] {
			v.problem("%s: listed in %s, missing", v.t.Path(rel), ManifestFile)
		}
	}
}

// digest is the sha256 of a file of the tree, read in pieces.
func (v *verifier) digest(rel string) (string, error) {
	f, err := v.t.Open(rel)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", v.t.Path(rel), err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// name adds the user id of an untrusted signer that the compose's own
// keys give, so that a message says who signed.
func (v *verifier) name(err error) error {
	var u *sign.UntrustedError
	if errors.As(err, &u) {
		if e := u.Find(v.treeKeys); e != nil {
			return fmt.Errorf("%v (%s, says the compose's keys/)", err, sign.Describe(e))
		}
	}
	return err
}

// repos checks every repository: repomd.xml signed by its key, the files
// it names with their checksums; and that the manifest lists exactly the
// repositories there are.
func (v *verifier) repos(m *Manifest) {
	var found []string
	for rel := range v.regular {
		if path.Base(rel) == "repomd.xml" && path.Base(path.Dir(rel)) == "repodata" {
			found = append(found, path.Dir(path.Dir(rel)))
		}
	}
	sort.Strings(found)
	for _, r := range m.Repositories {
		if !slices.Contains(found, r) {
			v.problem("%s: a repository %s lists, with no repodata/repomd.xml", v.t.Path(r), ManifestFile)
		}
	}
	for _, repo := range found {
		if !slices.Contains(m.Repositories, repo) {
			v.problem("%s: a repository %s does not list", v.t.Path(repo), ManifestFile)
		}
		key, s, err := v.keyFor(path.Join(repo, "x"))
		if err != nil {
			v.problem("%s: %v", v.t.Path(repo), err)
			continue
		}
		md := path.Join(repo, "repodata", "repomd.xml")
		if _, _, err := CheckSigned(v.t, md, openpgp.EntityList{key}, v.treeKeys); err != nil {
			v.problem("%v", err)
		} else {
			s.Signed[KindRepomd]++
		}
		v.r.Problems = append(v.r.Problems, compose.CheckRepodata(v.t, repo, v.t.Path(repo))...)
	}
}

// provenance checks each artifact's signed statement, by the core key.
func (v *verifier) provenance(m *Manifest) {
	n, problems := provenance.Check(openpgp.EntityList{v.coreKey}, v.t, v.t.Dir(), m.Artifacts)
	v.core.Signed[KindProvenance] += n
	v.r.Problems = append(v.r.Problems, problems...)
}
