package optin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/treefs"
)

const (
	// IndexFile is the SIG index's name at a compose's root.
	IndexFile = "sigs.json"
	// SignatureFile is its detached signature, by the core key.
	SignatureFile = IndexFile + ".asc"
)

// Index lists the SIGs a publication carries. It is signed with the core
// key on its own (sigs.json.asc), because machines read it on its own,
// from a URL, before writing a .repo file and a key; it names each SIG's
// key by digest, so the key it hands out is covered by the same
// signature.
type Index struct {
	Distribution string `json:"distribution"`
	PrettyName   string `json:"pretty_name"`
	// Key is the core's public key under keys/, which signs the index:
	// the key material a pinned fingerprint may take.
	Key  string `json:"key"`
	SIGs []SIG  `json:"sigs"`
}

// SIG is one published SIG.
type SIG struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Description string `json:"description"`
	Repos       []Repo `json:"repos"`
	Key         string `json:"key"` // its file under keys/
	// KeySHA256 and KeyFingerprint are those of the key file: what makes
	// the index's signature cover the key machines install.
	KeySHA256      string `json:"key_sha256"`
	KeyFingerprint string `json:"key_fingerprint"`
}

// Repo is one repository of a SIG.
type Repo struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Arches      []string `json:"arches,omitempty"`
}

// Write writes the index and its signature by key, dated at (the same
// index and key give the same bytes), into a compose folder.
func (x *Index) Write(dir string, key *sign.Key, at time.Time) error {
	sort.Slice(x.SIGs, func(i, j int) bool { return x.SIGs[i].Name < x.SIGs[j].Name })
	if err := x.Check(); err != nil {
		return err
	}
	data, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	asc, err := key.ArmoredDetached(data, at)
	if err != nil {
		return fmt.Errorf("sign %s: %w", IndexFile, err)
	}
	if err := store.WriteFile(filepath.Join(dir, IndexFile), data, 0o644); err != nil {
		return err
	}
	return store.WriteFile(filepath.Join(dir, SignatureFile), asc, 0o644)
}

// nameRE is what becomes a file name or a .repo section: no slashes, no
// dot-dot, no spaces.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// Check refuses an index whose names would leave the folders they are
// written to (a key called ../../etc/shadow) or whose text would add
// lines to a .repo file.
func (x *Index) Check() error {
	bad := func(what, v string) error { return fmt.Errorf("%s %q: not a plain name", what, v) }
	if !nameRE.MatchString(x.Distribution) {
		return bad("distribution", x.Distribution)
	}
	if x.Key != "" && !nameRE.MatchString(x.Key) {
		return bad("key", x.Key)
	}
	text := []string{x.PrettyName}
	for _, s := range x.SIGs {
		if !nameRE.MatchString(s.Name) {
			return bad("SIG", s.Name)
		}
		if !nameRE.MatchString(s.Key) {
			return bad("SIG "+s.Name+" key", s.Key)
		}
		text = append(text, s.Version, s.Description)
		for _, r := range s.Repos {
			if !nameRE.MatchString(r.ID) {
				return bad("SIG "+s.Name+" repository", r.ID)
			}
			for _, a := range r.Arches {
				if !nameRE.MatchString(a) {
					return bad("SIG "+s.Name+" arch", a)
				}
			}
			text = append(text, r.Name, r.Description)
		}
	}
	for _, t := range text {
		if strings.ContainsAny(t, "\x00\r\n") {
			return fmt.Errorf("%q: a line break in a name or description", t)
		}
	}
	return nil
}

// Parse checks an index's signature asc against keyring, then decodes and
// checks it; shown names the index in messages. It returns the index and
// the key that signed it.
func Parse(shown string, data, asc []byte, keyring openpgp.KeyRing, candidates openpgp.EntityList) (*Index, *openpgp.Entity, error) {
	signer, err := sign.CheckFile(keyring, shown, data, asc, candidates)
	if err != nil {
		return nil, nil, err
	}
	var x Index
	if err := json.Unmarshal(data, &x); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", shown, err)
	}
	if err := x.Check(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", shown, err)
	}
	return &x, signer, nil
}

// Load reads a publication's SIG index (a folder, or a file:// or
// http(s):// URL) and checks its signature against the keys the user
// trusts. A pinned fingerprint may take its key material from the
// publication's keys/.
func Load(from string, trust *sign.Trust) (*Index, *openpgp.Entity, error) {
	shown := Join(from, IndexFile)
	data, err := Fetch(from, IndexFile)
	if err != nil {
		return nil, nil, fmt.Errorf("the SIG index of %s: %w", from, err)
	}
	asc, err := Fetch(from, SignatureFile)
	if err != nil {
		return nil, nil, &sign.FileError{File: shown, Err: fmt.Errorf("not signed: %w", err)}
	}
	var candidates openpgp.EntityList
	var unsigned struct{ Key string }
	if json.Unmarshal(data, &unsigned) == nil && nameRE.MatchString(unsigned.Key) {
		// Not trusted: a pin decides whether it is taken.
		if pub, err := Fetch(from, "keys/"+unsigned.Key); err == nil {
			trust.Offer(pub, Join(from, "keys/"+unsigned.Key))
			candidates, _ = sign.Keyring(pub)
		}
	}
	if len(trust.Ring()) == 0 {
		return nil, nil, fmt.Errorf("%s: %w to check its signature", shown, sign.ErrNoTrustedKey)
	}
	return Parse(shown, data, asc, trust.Ring(), candidates)
}

// Join names a file of a publication.
func Join(from, rel string) string {
	if strings.Contains(from, "://") {
		return strings.TrimRight(from, "/") + "/" + rel
	}
	return filepath.Join(from, filepath.FromSlash(rel))
}

// Fetch reads a file of a publication: a folder, or a file:// or
// http(s):// URL. rel must be a clean path inside it; in a folder, no
// symlink is followed.
func Fetch(from, rel string) ([]byte, error) {
	if !treefs.Valid(rel) {
		return nil, fmt.Errorf("%s: %w", rel, treefs.ErrOutside)
	}
	switch {
	case strings.HasPrefix(from, "http://") || strings.HasPrefix(from, "https://"):
		url := strings.TrimRight(from, "/") + "/" + rel
		resp, err := http.Get(url)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %s", url, resp.Status)
		}
		return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	case strings.HasPrefix(from, "file://"):
		from = strings.TrimPrefix(from, "file://")
	}
	t, err := treefs.Open(from)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	data, err := t.ReadFile(rel)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("%s: %w", t.Path(pe.Path), pe.Err)
	}
	return data, err
}

// Find returns a SIG by name.
func (x *Index) Find(name string) (*SIG, error) {
	var names []string
	for i := range x.SIGs {
		if x.SIGs[i].Name == name {
			return &x.SIGs[i], nil
		}
		names = append(names, x.SIGs[i].Name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no SIG %q: the publication carries no SIGs", name)
	}
	return nil, fmt.Errorf("no SIG %q: the publication carries %s", name, strings.Join(names, ", "))
}
