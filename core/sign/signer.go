package sign

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// UntrustedError is a signature made by a key that is not in the
// keyring it was checked against: it names that key, so that a user can
// see who signed.
type UntrustedError struct {
	KeyID       uint64
	Fingerprint string // upper-case hex, when the signature carries it
}

func (e *UntrustedError) Error() string {
	return "signed by key " + e.Issuer() + ", which is not a trusted key"
}

// Issuer is the signing key's fingerprint, or its key id.
func (e *UntrustedError) Issuer() string {
	if e.Fingerprint != "" {
		return e.Fingerprint
	}
	return fmt.Sprintf("%016X", e.KeyID)
}

// MismatchError is a signature by a trusted key over other bytes: the
// file changed after it was signed.
type MismatchError struct{ Err error }

func (e *MismatchError) Error() string {
	return fmt.Sprintf("does not match its signature (changed after signing?): %v", e.Err)
}
func (e *MismatchError) Unwrap() error { return e.Err }

// Signer checks a binary or armored detached signature of data against
// keyring and returns the key that made it. An unknown signer is an
// *UntrustedError; a signature that does not match, a *MismatchError.
func Signer(keyring openpgp.KeyRing, data, sig []byte) (*openpgp.Entity, error) {
	raw := sig
	if bytes.HasPrefix(bytes.TrimSpace(sig), []byte("-----BEGIN PGP SIGNATURE")) {
		block, err := armor.Decode(bytes.NewReader(sig))
		if err != nil {
			return nil, fmt.Errorf("not an armored signature: %v", err)
		}
		if raw, err = io.ReadAll(block.Body); err != nil {
			return nil, fmt.Errorf("not an armored signature: %v", err)
		}
	}
	e, err := openpgp.CheckDetachedSignature(keyring, bytes.NewReader(data), bytes.NewReader(raw), nil)
	switch {
	case err == nil:
		return e, nil
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return nil, issuer(raw)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("not a signature: %v", err)
	}
	var structural pgperrors.StructuralError
	if errors.As(err, &structural) {
		return nil, fmt.Errorf("not a signature: %v", err)
	}
	return nil, &MismatchError{err}
}

// issuer reads who made a signature packet.
func issuer(raw []byte) error {
	p, err := packet.Read(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("not a signature: %v", err)
	}
	s, ok := p.(*packet.Signature)
	if !ok {
		return fmt.Errorf("not a signature packet")
	}
	e := &UntrustedError{}
	if s.IssuerKeyId != nil {
		e.KeyID = *s.IssuerKeyId
	}
	if len(s.IssuerFingerprint) > 0 {
		e.Fingerprint = strings.ToUpper(fmt.Sprintf("%x", s.IssuerFingerprint))
	}
	return e
}

// Fingerprint is an entity's primary key fingerprint in upper-case hex.
func Fingerprint(e *openpgp.Entity) string {
	return strings.ToUpper(fmt.Sprintf("%x", e.PrimaryKey.Fingerprint))
}

// UserID is an entity's primary user id ("Pebble Linux <releng@...>").
func UserID(e *openpgp.Entity) string {
	if id := e.PrimaryIdentity(); id != nil {
		return id.Name
	}
	return ""
}

// Describe names a key for people: its fingerprint and user id.
func Describe(e *openpgp.Entity) string {
	if uid := UserID(e); uid != "" {
		return fmt.Sprintf("%s (%s)", Fingerprint(e), uid)
	}
	return Fingerprint(e)
}

// Find returns the key of candidates that made an untrusted signature,
// to name it; nil when none did. The candidates are not trusted.
func (e *UntrustedError) Find(candidates openpgp.EntityList) *openpgp.Entity {
	for _, c := range candidates {
		if e.Fingerprint != "" && Fingerprint(c) == e.Fingerprint {
			return c
		}
	}
	if keys := candidates.KeysById(e.KeyID); len(keys) > 0 {
		return keys[0].Entity
	}
	return nil
}

// FileError is a signed file whose signature does not hold: missing, by
// a key that is not trusted, or over other bytes. File is as messages
// name it (the signature's file when that is the one at fault).
type FileError struct {
	File string
	Err  error
}

func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// CheckFile checks asc, the detached signature beside the file name
// (name.asc), over data, against keyring, and returns the key that
// signed. Failures are *FileErrors naming the file: a key that is not
// trusted is named, with the user id candidates (untrusted keys, such as
// a publication's own) give it.
func CheckFile(keyring openpgp.KeyRing, name string, data, asc []byte, candidates openpgp.EntityList) (*openpgp.Entity, error) {
	signer, err := Signer(keyring, data, asc)
	var untrusted *UntrustedError
	var mismatch *MismatchError
	switch {
	case err == nil:
		return signer, nil
	case errors.As(err, &untrusted):
		who := untrusted.Issuer()
		if e := untrusted.Find(candidates); e != nil {
			who = Describe(e)
		}
		return nil, &FileError{name + ".asc", explained{"signed by key " + who + ", which is not a trusted key", err}}
	case errors.As(err, &mismatch):
		return nil, &FileError{name, explained{"does not match its signature " + baseName(name) + ".asc (changed after signing?)", err}}
	}
	return nil, &FileError{name + ".asc", err}
}

// explained is an error told better, which still unwraps to its cause.
type explained struct {
	msg string
	err error
}

func (e explained) Error() string { return e.msg }
func (e explained) Unwrap() error { return e.err }

func baseName(name string) string {
	if i := strings.LastIndexAny(name, "/"); i >= 0 {
		return name[i+1:]
	}
	return name
}
