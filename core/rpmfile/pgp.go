package rpmfile

import (
	"bytes"
	"crypto"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Signature is one OpenPGP signature of a signature header, parsed far
// enough to know it is one: a single signature packet, version 3 or 4, of
// a binary document, with a known key and hash algorithm and exactly the
// MPIs that algorithm has. Red Hat still signs with version 3 packets,
// which go-crypto no longer reads, so both are framed here.
type Signature struct {
	Tag     int // RSAHEADER, DSAHEADER (the header) or PGP, GPG, PGP5 (header and payload)
	Version int
	KeyID   uint64 // 0 when a version 4 signature names only a fingerprint
	PubKey  packet.PublicKeyAlgorithm
	Hash    crypto.Hash
	Created time.Time

	raw        []byte
	sigType    byte
	hashPrefix [2]byte
	mpis       [][]byte // version 3 only
	v4         *packet.Signature
}

// CoversPayload says whether the signature is over the header and the
// payload, not the header alone.
func (s *Signature) CoversPayload() bool { return signatureTags[s.Tag] }

// OpenPGP hash algorithm numbers (RFC 4880, 9.4); MD5 and RIPEMD-160 are
// refused.
var pgpHashes = map[byte]crypto.Hash{2: crypto.SHA1, 8: crypto.SHA256, 9: crypto.SHA384, 10: crypto.SHA512, 11: crypto.SHA224}

// pgpMPIs is how many MPIs a signature of each public key algorithm has.
var pgpMPIs = map[packet.PublicKeyAlgorithm]int{
	packet.PubKeyAlgoRSA: 1, packet.PubKeyAlgoRSASignOnly: 1,
	packet.PubKeyAlgoDSA: 2, packet.PubKeyAlgoECDSA: 2, packet.PubKeyAlgoEdDSA: 2,
}

// parseSignature frames b as exactly one OpenPGP signature packet, with
// nothing before or after it, as rpm's pgpPrtParams requires.
func parseSignature(b []byte) (*Signature, error) {
	body, err := packetBody(b)
	if err != nil {
		return nil, err
	}
	if len(body) < 1 {
		return nil, errors.New("empty signature packet")
	}
	s := &Signature{raw: b, Version: int(body[0])}
	switch s.Version {
	case 3:
		err = s.parseV3(body)
	case 4:
		err = s.parseV4(body)
	default:
		err = fmt.Errorf("signature version %d is not supported", s.Version)
	}
	if err != nil {
		return nil, err
	}
	if s.sigType != 0 {
		return nil, fmt.Errorf("signature type %#x is not a binary document signature", s.sigType)
	}
	return s, nil
}

// packetBody checks the packet header (old or new format, no partial or
// indeterminate length) and returns the body of a signature packet.
func packetBody(b []byte) ([]byte, error) {
	if len(b) < 2 || b[0]&0x80 == 0 {
		return nil, errors.New("no OpenPGP packet")
	}
	var tag byte
	var n, hdr int
	if b[0]&0x40 != 0 { // new format
		tag = b[0] & 0x3f
		switch l := b[1]; {
		case l < 192:
			n, hdr = int(l), 2
		case l < 224:
			if len(b) < 3 {
				return nil, errors.New("truncated packet length")
			}
			n, hdr = (int(l)-192)<<8+int(b[2])+192, 3
		case l == 255:
			if len(b) < 6 {
				return nil, errors.New("truncated packet length")
			}
			n, hdr = int(binary.BigEndian.Uint32(b[2:6])), 6
		default:
			return nil, errors.New("partial packet lengths are not allowed in a signature")
		}
	} else { // old format
		tag = (b[0] >> 2) & 0x0f
		switch b[0] & 3 {
		case 0:
			n, hdr = int(b[1]), 2
		case 1:
			if len(b) < 3 {
				return nil, errors.New("truncated packet length")
			}
			n, hdr = int(binary.BigEndian.Uint16(b[1:3])), 3
		case 2:
			if len(b) < 5 {
				return nil, errors.New("truncated packet length")
			}
			n, hdr = int(binary.BigEndian.Uint32(b[1:5])), 5
		default:
			return nil, errors.New("indeterminate packet length")
		}
	}
	if tag != 2 {
		return nil, fmt.Errorf("packet tag %d is not a signature", tag)
	}
	if n != len(b)-hdr {
		return nil, fmt.Errorf("signature packet of %d bytes in a value of %d", n, len(b)-hdr)
	}
	return b[hdr:], nil
}

// parseV3 reads a version 3 body: hashed length 5, type, time, key ID,
// algorithms, hash prefix, MPIs.
func (s *Signature) parseV3(body []byte) error {
	if len(body) < 19 || body[1] != 5 {
		return errors.New("truncated or malformed version 3 signature")
	}
	s.sigType = body[2]
	s.Created = time.Unix(int64(binary.BigEndian.Uint32(body[3:7])), 0)
	s.KeyID = binary.BigEndian.Uint64(body[7:15])
	s.PubKey = packet.PublicKeyAlgorithm(body[15])
	if err := s.algorithms(body[16]); err != nil {
		return err
	}
	copy(s.hashPrefix[:], body[17:19])
	mpis, err := readMPIs(body[19:], pgpMPIs[s.PubKey])
	s.mpis = mpis
	return err
}

// parseV4 checks a version 4 body's layout (subpacket areas, hash prefix,
// exactly its MPIs), then has go-crypto read it for its subpackets.
func (s *Signature) parseV4(body []byte) error {
	if len(body) < 6 {
		return errors.New("truncated version 4 signature")
	}
	s.sigType = body[1]
	s.PubKey = packet.PublicKeyAlgorithm(body[2])
	if err := s.algorithms(body[3]); err != nil {
		return err
	}
	p := 4
	for area := 0; area < 2; area++ {
		if len(body) < p+2 {
			return errors.New("truncated signature subpackets")
		}
		n := int(binary.BigEndian.Uint16(body[p:]))
		if p += 2 + n; p > len(body) {
			return errors.New("signature subpackets overrun the packet")
		}
	}
	if len(body) < p+2 {
		return errors.New("truncated signature")
	}
	copy(s.hashPrefix[:], body[p:p+2])
	if _, err := readMPIs(body[p+2:], pgpMPIs[s.PubKey]); err != nil {
		return err
	}
	pkt, err := packet.Read(bytes.NewReader(s.raw))
	if err != nil {
		return err
	}
	sig, ok := pkt.(*packet.Signature)
	if !ok {
		return errors.New("not a signature packet")
	}
	s.v4, s.Created = sig, sig.CreationTime
	if sig.IssuerKeyId != nil {
		s.KeyID = *sig.IssuerKeyId
	} else if fp := sig.IssuerFingerprint; len(fp) == 20 {
		s.KeyID = binary.BigEndian.Uint64(fp[12:]) // a v4 key ID ends its fingerprint
	}
	return nil
}

func (s *Signature) algorithms(hashAlg byte) error {
	if _, ok := pgpMPIs[s.PubKey]; !ok {
		return fmt.Errorf("public key algorithm %d is not supported", s.PubKey)
	}
	h, ok := pgpHashes[hashAlg]
	if !ok {
		return fmt.Errorf("hash algorithm %d is not supported", hashAlg)
	}
	s.Hash = h
	return nil
}

// readMPIs reads exactly n MPIs (a bit count, then its bytes) filling b.
func readMPIs(b []byte, n int) ([][]byte, error) {
	var out [][]byte
	for i := 0; i < n; i++ {
		if len(b) < 2 {
			return nil, errors.New("truncated signature value")
		}
		bits := int(binary.BigEndian.Uint16(b))
		size := (bits + 7) / 8
		if bits == 0 || len(b) < 2+size {
			return nil, errors.New("truncated or empty signature value")
		}
		out = append(out, b[2:2+size])
		b = b[2+size:]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d bytes after the signature value", len(b))
	}
	return out, nil
}
