package rpmfile

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
)

// Signature header tags (rpmtag.h, RPMSIGTAG_*).
const (
	sigTagSize          = 1000
	sigTagLEMD5a        = 1001
	sigTagPGP           = 1002
	sigTagLEMD5b        = 1003
	sigTagMD5           = 1004
	sigTagGPG           = 1005
	sigTagPGP5          = 1006
	sigTagPayloadSize   = 1007
	sigTagReserved      = 1008
	sigTagDSA           = 267
	sigTagRSA           = 268
	sigTagSHA1          = 269
	sigTagLongSize      = 270
	sigTagLongArchive   = 271
	sigTagSHA256        = 273
	tagPayloadDigest    = 5092
	tagPayloadDigestAlg = 5093
	tagPayloadDigestAlt = 5097
	// TagSourcePackage is set in the header of a source RPM.
	TagSourcePackage = 1106
)

// sigTag is what a signature header tag must look like: its type, and its
// count when that is fixed (0: any).
type sigTag struct {
	name  string
	typ   int
	count int
}

// sigTags are the signature header tags rpm knows; an unknown tag is
// allowed (rpm ignores it) but must still be well formed.
var sigTags = map[int]sigTag{
	sigTagSize:        {"SIZE", TypeInt32, 1},
	sigTagLongSize:    {"LONGSIZE", TypeInt64, 1},
	sigTagPayloadSize: {"PAYLOADSIZE", TypeInt32, 1},
	sigTagLongArchive: {"LONGARCHIVESIZE", TypeInt64, 1},
	sigTagMD5:         {"MD5", TypeBin, 16},
	sigTagLEMD5a:      {"LEMD5_1", TypeBin, 0},
	sigTagLEMD5b:      {"LEMD5_2", TypeBin, 0},
	sigTagSHA1:        {"SHA1", TypeString, 1},
	sigTagSHA256:      {"SHA256", TypeString, 1},
	sigTagReserved:    {"RESERVEDSPACE", TypeBin, 0},
	sigTagDSA:         {"DSAHEADER", TypeBin, 0},
	sigTagRSA:         {"RSAHEADER", TypeBin, 0},
	sigTagPGP:         {"PGP", TypeBin, 0},
	sigTagGPG:         {"GPG", TypeBin, 0},
	sigTagPGP5:        {"PGP5", TypeBin, 0},
}

// signatureTags are the tags that hold OpenPGP signatures, and whether
// each covers the payload as well as the header.
var signatureTags = map[int]bool{sigTagRSA: false, sigTagDSA: false, sigTagPGP: true, sigTagGPG: true, sigTagPGP5: true}

// sigName names a signature header tag for messages.
func sigName(tag int) string {
	if t, ok := sigTags[tag]; ok {
		return fmt.Sprintf("%s (%d)", t.name, tag)
	}
	return fmt.Sprintf("tag %d", tag)
}

// checkSigTags checks that every known signature tag has its type and
// count, and that every signature tag holds one parseable OpenPGP
// signature; it returns those signatures.
func checkSigTags(sig *verified) ([]*Signature, error) {
	var sigs []*Signature
	for _, e := range sig.Entries {
		want, known := sigTags[e.Tag]
		if known && (e.Type != want.typ || (want.count != 0 && e.Count != want.count)) {
			return nil, fmt.Errorf("signature header: %s has type %d and count %d, not type %d%s", sigName(e.Tag), e.Type, e.Count, want.typ, countSuffix(want.count))
		}
		if _, ok := signatureTags[e.Tag]; ok {
			s, err := parseSignature(e.Data)
			if err != nil {
				return nil, fmt.Errorf("signature header: %s: not an OpenPGP signature: %w", sigName(e.Tag), err)
			}
			s.Tag = e.Tag
			sigs = append(sigs, s)
		}
	}
	return sigs, nil
}

func countSuffix(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" and count %d", n)
}

// checkDigests checks every size and digest that is there, as rpm does
// (every digest present must match), and that the header and the payload
// are each covered by at least one.
func checkDigests(sig, hdr *verified, header, payload []byte) error {
	total := uint64(len(header) + len(payload))
	if e := sig.get(sigTagSize); e != nil && uint64(binary.BigEndian.Uint32(e.Data)) != total {
		return fmt.Errorf("size mismatch: header and payload are %d bytes, the signature header's SIZE says %d", total, binary.BigEndian.Uint32(e.Data))
	}
	if e := sig.get(sigTagLongSize); e != nil && binary.BigEndian.Uint64(e.Data) != total {
		return fmt.Errorf("size mismatch: header and payload are %d bytes, the signature header's LONGSIZE says %d", total, binary.BigEndian.Uint64(e.Data))
	}
	headerCovered, payloadCovered := false, false
	for _, d := range []struct {
		tag int
		new func() hash.Hash
	}{{sigTagSHA256, sha256.New}, {sigTagSHA1, sha1.New}} {
		e := sig.get(d.tag)
		if e == nil {
			continue
		}
		h := d.new()
		h.Write(header)
		if want := cString(e.Data); hex.EncodeToString(h.Sum(nil)) != want {
			return fmt.Errorf("header %s digest mismatch: the header was changed or the digest is not one (%q)", sigTags[d.tag].name, clip(want))
		}
		headerCovered = true
	}
	if e := sig.get(sigTagMD5); e != nil {
		h := md5.New()
		h.Write(header)
		h.Write(payload)
		if !bytes.Equal(h.Sum(nil), e.Data) {
			return errors.New("MD5 digest mismatch: the header or payload was changed or truncated")
		}
		headerCovered, payloadCovered = true, true
	}
	if e := hdr.get(tagPayloadDigest); e != nil {
		h, err := payloadHash(hdr)
		if err != nil {
			return err
		}
		if e.Type != TypeStringArray {
			return fmt.Errorf("header: PAYLOADDIGEST (%d) has type %d, not STRING_ARRAY", tagPayloadDigest, e.Type)
		}
		h.Write(payload)
		if want := cString(e.Data); hex.EncodeToString(h.Sum(nil)) != want {
			return fmt.Errorf("payload digest mismatch: the payload was changed or truncated")
		}
		payloadCovered = true
	}
	switch {
	case !headerCovered:
		return errors.New("carries no digest of its header (SHA256, SHA1 or MD5)")
	case !payloadCovered:
		return errors.New("carries no digest of its payload (PAYLOADDIGEST or MD5)")
	}
	return nil
}

// payloadHash is the hash PAYLOADDIGESTALGO names (rpm's PGPHASHALGO
// numbers; SHA256 when absent).
func payloadHash(hdr *verified) (hash.Hash, error) {
	alg := uint32(8)
	if a := hdr.get(tagPayloadDigestAlg); a != nil {
		if a.Type != TypeInt32 || a.Count != 1 {
			return nil, fmt.Errorf("header: PAYLOADDIGESTALGO (%d) is not one INT32", tagPayloadDigestAlg)
		}
		alg = binary.BigEndian.Uint32(a.Data)
	}
	switch alg {
	case 8:
		return sha256.New(), nil
	case 9:
		return sha512.New384(), nil
	case 10:
		return sha512.New(), nil
	case 11:
		return sha256.New224(), nil
	}
	return nil, fmt.Errorf("payload digest algorithm %d is not supported", alg)
}

// cString is the first NUL-terminated string of a verified value.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// clip shortens a value quoted in a message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
