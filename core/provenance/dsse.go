package provenance

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/quarrylinux/quarry/core/sign"
)

// PayloadType is the DSSE payload type of an in-toto statement.
const PayloadType = "application/vnd.in-toto+json"

// Envelope is a DSSE envelope.
type Envelope struct {
	PayloadType string      `json:"payloadType"`
	Payload     string      `json:"payload"` // base64
	Signatures  []Signature `json:"signatures"`
}

// Signature is one DSSE signature: here a binary OpenPGP signature over
// the PAE encoding, by the key with that fingerprint.
type Signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"` // base64
}

// pae is DSSE's pre-authentication encoding: what is actually signed.
func pae(payloadType string, payload []byte) []byte {
	b := []byte("DSSEv1 ")
	b = strconv.AppendInt(b, int64(len(payloadType)), 10)
	b = append(b, ' ')
	b = append(b, payloadType...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(payload)), 10)
	b = append(b, ' ')
	return append(b, payload...)
}

// Sign wraps the statement in a signed envelope. The signature time is
// at (the build's end), so the same statement and key give the same bytes.
func Sign(key *sign.Key, st *Statement, at time.Time) ([]byte, error) {
	payload, err := st.marshal()
	if err != nil {
		return nil, err
	}
	sig, err := key.Detached(pae(PayloadType, payload), at)
	if err != nil {
		return nil, fmt.Errorf("sign provenance: %w", err)
	}
	env := Envelope{PayloadType: PayloadType, Payload: base64.StdEncoding.EncodeToString(payload),
		Signatures: []Signature{{KeyID: key.Fingerprint(), Sig: base64.StdEncoding.EncodeToString(sig)}}}
	out, err := json.MarshalIndent(env, "", "  ")
	return append(out, '\n'), err
}

// ErrUnsigned is an envelope no signature of which verifies.
var ErrUnsigned = errors.New("no signature verifies with the given keys")

// Open checks an envelope's signature against the keyring and returns
// its statement.
func Open(keyring openpgp.KeyRing, data []byte) (*Statement, error) {
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("not a DSSE envelope: %w", err)
	}
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("payload type %q, want %q", env.PayloadType, PayloadType)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	signed := pae(env.PayloadType, payload)
	ok := false
	for _, s := range env.Signatures {
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err == nil && sign.CheckDetached(keyring, signed, sig) == nil {
			ok = true
			break
		}
	}
	if !ok {
		return nil, ErrUnsigned
	}
	var st Statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("statement: %w", err)
	}
	if err := st.check(); err != nil {
		return nil, err
	}
	return &st, nil
}
