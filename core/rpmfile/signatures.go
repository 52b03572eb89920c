package rpmfile

import (
	"bytes"
	"crypto"
	//lint:ignore SA1019 go-crypto hands a DSA OpenPGP key over as a *dsa.PublicKey, and old upstream RPMs carry version 3 DSA signatures that must still verify (nothing is signed with DSA)
	"crypto/dsa"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/ProtonMail/go-crypto/openpgp"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// ErrUnsigned is an RPM with no OpenPGP signature.
var ErrUnsigned = errors.New("has no signature")

// Verified is one signature that verified, and whose key made it.
type Verified struct {
	*Signature
	Signer *openpgp.Entity
}

// VerifySignatures checks an RPM the way rpmkeys --checksig does with only
// keyring's keys trusted: its structure and every digest (Read), then every
// OpenPGP signature it carries, each of which must verify with a key of
// keyring; an unknown key fails, as rpm's NOKEY does. What verifies must
// cover the payload too: a header+payload signature, or a header signature
// over a header that carries the payload's digest. name is for messages.
func VerifySignatures(keyring openpgp.KeyRing, name string, data []byte) ([]Verified, error) {
	f, err := Read(name, data)
	if err != nil {
		return nil, err
	}
	if len(f.signatures) == 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrUnsigned)
	}
	start, end := f.HeaderRange()
	payloadCovered := f.Header.GetTag(tagPayloadDigest) != nil
	var out []Verified
	for _, s := range f.signatures {
		signed := data[start:end]
		if s.CoversPayload() {
			signed = data[start:]
		}
		signer, err := s.verify(keyring, signed)
		if err != nil {
			return nil, fmt.Errorf("%s: %s signature (key ID %016x): %v", name, sigName(s.Tag), s.KeyID, err)
		}
		payloadCovered = payloadCovered || s.CoversPayload()
		out = append(out, Verified{Signature: s, Signer: signer})
	}
	if !payloadCovered {
		return nil, fmt.Errorf("%s: its signatures cover only the header, which carries no payload digest", name)
	}
	return out, nil
}

// errNoKey is a signature by a key the keyring does not hold, in rpm's
// word for it.
var errNoKey = errors.New("signed by a key that is not trusted (NOKEY)")

// verify checks the signature over signed with the keys of keyring.
func (s *Signature) verify(keyring openpgp.KeyRing, signed []byte) (*openpgp.Entity, error) {
	if s.Hash == crypto.SHA1 {
		return nil, errors.New("SHA-1 signatures are not accepted")
	}
	if s.Version == 4 {
		e, err := openpgp.CheckDetachedSignature(keyring, bytes.NewReader(signed), bytes.NewReader(s.raw), nil)
		if errors.Is(err, pgperrors.ErrUnknownIssuer) {
			return nil, errNoKey
		}
		return e, err
	}
	keys := keyring.KeysById(s.KeyID)
	if len(keys) == 0 {
		return nil, errNoKey
	}
	// A version 3 signature hashes the data, then its type and time.
	h := s.Hash.New()
	h.Write(signed)
	h.Write([]byte{s.sigType})
	h.Write(binary.BigEndian.AppendUint32(nil, uint32(s.Created.Unix())))
	digest := h.Sum(nil)
	if !bytes.Equal(digest[:2], s.hashPrefix[:]) {
		return nil, errors.New("digest mismatch: the signed data was changed")
	}
	var last error
	for _, k := range keys {
		if last = s.verifyV3(k.PublicKey, digest); last == nil {
			return k.Entity, nil
		}
	}
	return nil, last
}

func (s *Signature) verifyV3(pub *packet.PublicKey, digest []byte) error {
	if pub == nil || pub.PubKeyAlgo != s.PubKey && !(isRSA(pub.PubKeyAlgo) && isRSA(s.PubKey)) {
		return errors.New("the key's algorithm is not the signature's")
	}
	switch k := pub.PublicKey.(type) {
	case *rsa.PublicKey:
		sig := s.mpis[0]
		if len(sig) > k.Size() {
			return errors.New("RSA signature longer than the key")
		}
		padded := make([]byte, k.Size())
		copy(padded[k.Size()-len(sig):], sig)
		if err := rsa.VerifyPKCS1v15(k, s.Hash, digest, padded); err != nil {
			return errors.New("bad RSA signature")
		}
		return nil
	case *dsa.PublicKey:
		q := (k.Q.BitLen() + 7) / 8
		if len(digest) > q {
			digest = digest[:q]
		}
		if !dsa.Verify(k, digest, new(big.Int).SetBytes(s.mpis[0]), new(big.Int).SetBytes(s.mpis[1])) {
			return errors.New("bad DSA signature")
		}
		return nil
	}
	return fmt.Errorf("version 3 signatures with public key algorithm %d are not supported", s.PubKey)
}

func isRSA(a packet.PublicKeyAlgorithm) bool {
	return a == packet.PubKeyAlgoRSA || a == packet.PubKeyAlgoRSASignOnly
}
