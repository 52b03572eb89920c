package sign

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// ErrNoTrustedKey is a check with nothing to check against: no key was
// given, and the rpm keyring holds none.
var ErrNoTrustedKey = errors.New("no trusted key")

// Trust is the set of keys a user already trusts, each with where it came
// from. Key material found in what is being checked (a publication's
// keys/) is never trusted on its own: it is taken only for a fingerprint
// the user pinned.
type Trust struct {
	keys []trusted
	pins []string // upper-case hex fingerprints
}

type trusted struct {
	entity *openpgp.Entity
	source string
}

// AddFile trusts the public keys in an armored or binary key file.
func (t *Trust) AddFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("trusted key: %w", err)
	}
	keys, err := readKeys(data)
	if err != nil || len(keys) == 0 {
		return fmt.Errorf("trusted key %s: not an OpenPGP public key: %v", path, err)
	}
	for _, e := range keys {
		t.add(e, path)
	}
	return nil
}

// Add trusts keys, which came from source.
func (t *Trust) Add(keys openpgp.EntityList, source string) {
	for _, e := range keys {
		t.add(e, source)
	}
}

// AddRPMKeyring trusts what rpm under root trusts: the gpg-pubkey entries
// of its database (rpmkeys --import puts them there, and dnf when it first
// installs a package signed by a repository's gpgkey).
func (t *Trust) AddRPMKeyring(root string) error {
	if root == "" {
		root = "/"
	}
	// A query would create an empty database in a root that has none.
	dbpath, err := exec.Command("rpm", "--root", root, "--eval", "%{_dbpath}").Output()
	if err != nil {
		return fmt.Errorf("the rpm keyring of %s: rpm --eval: %v", root, err)
	}
	if _, err := os.Stat(filepath.Join(root, strings.TrimSpace(string(dbpath)))); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	cmd := exec.Command("rpm", "--root", root, "-q", "gpg-pubkey", "--qf", "%{DESCRIPTION}\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 && bytes.Contains(out, []byte("is not installed")) {
			return nil // an rpm database with no keys
		}
		return fmt.Errorf("the rpm keyring of %s: rpm -q gpg-pubkey: %v %s", root, err, strings.TrimSpace(stderr.String()))
	}
	source := "the rpm keyring of " + root
	for _, block := range splitArmor(out) {
		keys, err := readKeys(block)
		if err != nil {
			return fmt.Errorf("%s: %v", source, err)
		}
		for _, e := range keys {
			t.add(e, source)
		}
	}
	return nil
}

var fingerprintRE = regexp.MustCompile(`^([0-9A-F]{40}|[0-9A-F]{64})$`)

// Pin trusts the key with this fingerprint (v4: 40 hex digits, spaces
// allowed), once its key material is offered, from wherever.
func (t *Trust) Pin(fpr string) error {
	norm := strings.ToUpper(strings.TrimPrefix(strings.ReplaceAll(fpr, " ", ""), "0x"))
	if !fingerprintRE.MatchString(norm) {
		return fmt.Errorf("fingerprint %q: want the key's full fingerprint, 40 hex digits", fpr)
	}
	t.pins = append(t.pins, norm)
	return nil
}

// Pinned reports whether fingerprints were pinned.
func (t *Trust) Pinned() bool { return len(t.pins) > 0 }

// Offer gives key material from a place that is not trusted (a
// publication's keys/): the keys whose fingerprint is pinned become
// trusted, the rest are ignored. It returns the keys it took.
func (t *Trust) Offer(data []byte, source string) []*openpgp.Entity {
	keys, _ := readKeys(data)
	var took []*openpgp.Entity
	for _, e := range keys {
		fpr := Fingerprint(e)
		for _, p := range t.pins {
			if p == fpr && t.Source(e) == "" {
				t.add(e, "pinned fingerprint, key from "+source)
				took = append(took, e)
			}
		}
	}
	return took
}

// Unmatched are the pinned fingerprints no key was offered for.
func (t *Trust) Unmatched() []string {
	var out []string
	for _, p := range t.pins {
		found := false
		for _, k := range t.keys {
			found = found || Fingerprint(k.entity) == p
		}
		if !found {
			out = append(out, p)
		}
	}
	return out
}

// Ring is every trusted key.
func (t *Trust) Ring() openpgp.EntityList {
	var out openpgp.EntityList
	for _, k := range t.keys {
		out = append(out, k.entity)
	}
	return out
}

// Source says where a trusted key came from, or "" when it is not trusted.
func (t *Trust) Source(e *openpgp.Entity) string {
	fpr := Fingerprint(e)
	for _, k := range t.keys {
		if Fingerprint(k.entity) == fpr {
			return k.source
		}
	}
	return ""
}

// Describe lists the trusted keys, for messages.
func (t *Trust) Describe() string {
	var out []string
	for _, k := range t.keys {
		out = append(out, Describe(k.entity)+" from "+k.source)
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, "; ")
}

func (t *Trust) add(e *openpgp.Entity, source string) {
	if t.Source(e) == "" {
		t.keys = append(t.keys, trusted{e, source})
	}
}

func readKeys(data []byte) (openpgp.EntityList, error) {
	if bytes.Contains(data, []byte("-----BEGIN PGP")) {
		var all openpgp.EntityList
		for _, block := range splitArmor(data) {
			keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(block))
			if err != nil {
				return nil, err
			}
			all = append(all, keys...)
		}
		return all, nil
	}
	return openpgp.ReadKeyRing(bytes.NewReader(data))
}

// splitArmor cuts concatenated armored key blocks apart (the armor
// reader stops after the first).
func splitArmor(data []byte) [][]byte {
	const end = "-----END PGP PUBLIC KEY BLOCK-----"
	var out [][]byte
	for {
		i := bytes.Index(data, []byte(end))
		if i < 0 {
			return out
		}
		out = append(out, data[:i+len(end)])
		data = data[i+len(end):]
	}
}
