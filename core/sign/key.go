// Package sign holds the core's signing keys and signs in process: RPM
// headers (the signature rpm -K checks) and detached signatures over
// repomd.xml and provenance. Only the digests are signed, by Go code, so
// there is no gpg-agent to serialise requests and no passphrase prompt to
// expire; the private key is read by this package alone.
package sign

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/quarrylinux/quarry/core/store"
)

// Key is a signing key with its private half.
type Key struct {
	entity *openpgp.Entity
}

// KeyError is a signing key that cannot be used; callers stop before
// anything is published.
type KeyError struct {
	Source string // the file or gpg key id
	Err    error
}

func (e *KeyError) Error() string { return fmt.Sprintf("signing key %s: %v", e.Source, e.Err) }
func (e *KeyError) Unwrap() error { return e.Err }

// Generate makes a new RSA key for uid ("Pebble Linux <releng@pebble.example>").
func Generate(uid string, bits int, now time.Time) (*Key, error) {
	name, email := uid, ""
	if i := strings.IndexByte(uid, '<'); i >= 0 && strings.HasSuffix(uid, ">") {
		name, email = strings.TrimSpace(uid[:i]), uid[i+1:len(uid)-1]
	}
	cfg := &packet.Config{
		Algorithm:   packet.PubKeyAlgoRSA,
		RSABits:     bits,
		DefaultHash: crypto.SHA256,
		Time:        func() time.Time { return now },
	}
	e, err := openpgp.NewEntity(name, "", email, cfg)
	if err != nil {
		return nil, err
	}
	return &Key{entity: e}, nil
}

// Parse reads an armored or binary private key; passphrase unlocks an
// encrypted one.
func Parse(source string, data, passphrase []byte) (*Key, error) {
	var list openpgp.EntityList
	var err error
	if bytes.Contains(data, []byte("-----BEGIN PGP")) {
		list, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	} else {
		list, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, &KeyError{source, fmt.Errorf("not an OpenPGP key: %v", err)}
	}
	if len(list) != 1 {
		return nil, &KeyError{source, fmt.Errorf("holds %d keys, want one", len(list))}
	}
	e := list[0]
	if e.PrivateKey == nil {
		return nil, &KeyError{source, errors.New("is a public key; signing needs the private key")}
	}
	if e.PrivateKey.Encrypted {
		if len(passphrase) == 0 {
			return nil, &KeyError{source, errors.New("is protected by a passphrase: set signing.passphrase_file")}
		}
		if err := e.DecryptPrivateKeys(passphrase); err != nil {
			return nil, &KeyError{source, fmt.Errorf("wrong passphrase: %v", err)}
		}
	}
	if _, ok := e.SigningKey(time.Now()); !ok {
		return nil, &KeyError{source, errors.New("has no usable signing key (expired or revoked?)")}
	}
	return &Key{entity: e}, nil
}

// Load reads a private key file (0600), with an optional passphrase file.
func Load(path, passphraseFile string) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &KeyError{path, err}
	}
	var pass []byte
	if passphraseFile != "" {
		if pass, err = os.ReadFile(passphraseFile); err != nil {
			return nil, &KeyError{path, err}
		}
		pass = bytes.TrimRight(pass, "\r\n")
	}
	return Parse(path, data, pass)
}

// FromGPG exports a secret key from the user's gpg keyring by id or
// fingerprint; gpg asks for its passphrase once, here, not per package.
func FromGPG(id, passphraseFile string) (*Key, error) {
	args := []string{"--batch", "--armor", "--export-secret-keys"}
	var pass []byte
	if passphraseFile != "" {
		var err error
		if pass, err = os.ReadFile(passphraseFile); err != nil {
			return nil, &KeyError{"gpg:" + id, err}
		}
		pass = bytes.TrimRight(pass, "\r\n")
		args = append([]string{"--pinentry-mode", "loopback", "--passphrase-file", passphraseFile}, args...)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("gpg", append(args, id)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || len(out) == 0 {
		return nil, &KeyError{"gpg:" + id, fmt.Errorf("gpg --export-secret-keys found no secret key: %v %s", err, strings.TrimSpace(stderr.String()))}
	}
	return Parse("gpg:"+id, out, pass)
}

// Fingerprint is the key's fingerprint in upper-case hex.
func (k *Key) Fingerprint() string {
	return strings.ToUpper(fmt.Sprintf("%x", k.entity.PrimaryKey.Fingerprint))
}

// KeyID is the short id rpm shows (the last 8 hex digits, lower case).
func (k *Key) KeyID() string {
	fp := strings.ToLower(k.Fingerprint())
	return fp[len(fp)-8:]
}

// Created is when the key was made.
func (k *Key) Created() time.Time { return k.entity.PrimaryKey.CreationTime }

// PublicArmored is the public key, as repositories and release packages
// ship it.
func (k *Key) PublicArmored() ([]byte, error) {
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := k.entity.Serialize(w); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// SavePrivate writes the armored private key, readable by its owner only.
func (k *Key) SavePrivate(path string) error {
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	if err != nil {
		return err
	}
	if err := k.entity.SerializePrivate(w, nil); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	b.WriteByte('\n')
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return store.WriteFile(path, b.Bytes(), 0o600)
}

// Keyring reads armored public keys for verification.
//
// Every armored block of the file is read: distributions' RPM-GPG-KEY-*
// files often hold several keys, one block each.
func Keyring(armored []byte) (openpgp.EntityList, error) {
	var ring openpgp.EntityList
	r := bytes.NewReader(armored)
	for {
		block, err := armor.Decode(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(ring) > 0 {
				break // text after the last block
			}
			return nil, err
		}
		keys, err := openpgp.ReadKeyRing(block.Body)
		if err != nil {
			return nil, err
		}
		ring = append(ring, keys...)
	}
	if len(ring) == 0 {
		return nil, errors.New("no armored public key")
	}
	return ring, nil
}

// Public is the key's public half as a keyring, for checking what it signed.
func (k *Key) Public() openpgp.EntityList { return openpgp.EntityList{k.entity} }

// config pins the signature's creation time and hash.
func (k *Key) config(at time.Time) *packet.Config {
	if at.Before(k.Created()) {
		at = k.Created()
	}
	// No random salt notation: RSA signatures are deterministic, so the
	// same package and key give the same signed bytes.
	deterministic := false
	return &packet.Config{DefaultHash: crypto.SHA256, Time: func() time.Time { return at }, NonDeterministicSignaturesViaNotation: &deterministic}
}

// Detached signs data: a binary OpenPGP signature packet.
func (k *Key) Detached(data []byte, at time.Time) ([]byte, error) {
	var b bytes.Buffer
	if err := openpgp.DetachSign(&b, k.entity, bytes.NewReader(data), k.config(at)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ArmoredDetached signs data as an armored signature (repomd.xml.asc).
func (k *Key) ArmoredDetached(data []byte, at time.Time) ([]byte, error) {
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, k.entity, bytes.NewReader(data), k.config(at)); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// CheckDetached verifies a binary or armored detached signature of data.
func CheckDetached(keyring openpgp.KeyRing, data, sig []byte) error {
	_, err := Signer(keyring, data, sig)
	return err
}
