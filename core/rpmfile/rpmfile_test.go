package rpmfile_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// Every package rpmbuild writes, with every payload compression, reads
// and unpacks to the files it holds.
func TestSeedsReadAndUnpack(t *testing.T) {
	seeds, err := fixtures.SeedRPMs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range seeds {
		f, err := rpmfile.Read(s.Name, s.Data)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		files, err := f.Files()
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		want := []string{"etc/seed.conf", "usr/share/seed/data.txt"}
		if f.IsSource() {
			want = []string{"seed.spec", "seed-1.0.tar.gz", "seed.patch"}
		}
		for _, p := range want {
			if files[p] == nil {
				t.Errorf("%s: no %s in %d files", s.Name, p, len(files))
			}
		}
	}
}

// A payload that unpacks to more than the headers say is refused before
// more is unpacked.
func TestUnpackStopsAtDeclaredSize(t *testing.T) {
	old := rpmfile.MaxUnpacked
	defer func() { rpmfile.MaxUnpacked = old }()
	rpmfile.MaxUnpacked = 100
	f, err := rpmfile.Read("synth.rpm", fixtures.SyntheticRPM("synth", "1.0", "1", 1700000000))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Files(); err == nil || !strings.Contains(err.Error(), "more than the 100 Quarry unpacks") {
		t.Fatalf("Files with a 100-byte limit: %v", err)
	}
}

func testEntity(t testing.TB) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity("V3 Test", "", "v3@quarry.example", &packet.Config{RSABits: 2048, DefaultHash: crypto.SHA256, Time: func() time.Time { return time.Unix(1700000000, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// v3Signature makes a version 3 RSA/SHA256 signature packet over data,
// as Red Hat's signing server does.
func v3Signature(t testing.TB, e *openpgp.Entity, data []byte) []byte {
	t.Helper()
	created := uint32(1700000100)
	h := crypto.SHA256.New()
	h.Write(data)
	h.Write([]byte{0})
	h.Write(binary.BigEndian.AppendUint32(nil, created))
	digest := h.Sum(nil)
	s, err := rsa.SignPKCS1v15(rand.Reader, e.PrivateKey.PrivateKey.(*rsa.PrivateKey), crypto.SHA256, digest)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte{3, 5, 0}
	body = binary.BigEndian.AppendUint32(body, created)
	body = binary.BigEndian.AppendUint64(body, e.PrimaryKey.KeyId)
	body = append(body, byte(packet.PubKeyAlgoRSA), 8, digest[0], digest[1])
	bits := len(s)*8 - (8 - bitLen(s[0]))
	body = binary.BigEndian.AppendUint16(body, uint16(bits))
	body = append(body, s...)
	return append([]byte{0x89, byte(len(body) >> 8), byte(len(body))}, body...) // old format, 2-byte length
}

func bitLen(b byte) int {
	n := 0
	for ; b != 0; b >>= 1 {
		n++
	}
	return n
}

// withSignature puts sig into tag of the package's signature header.
func withSignature(t testing.TB, data []byte, tag int, sig []byte) []byte {
	t.Helper()
	lead, h, rest, err := rpmfile.Parts(data)
	if err != nil {
		t.Fatal(err)
	}
	h.Set(rpmfile.Bin(tag, sig))
	return rpmfile.Assemble(lead, h, rest)
}

// VerifySignatures checks version 3 and 4 signatures against a keyring,
// and refuses what rpm refuses: an unknown key, a changed signature, an
// unsigned package. The real rpmkeys agrees on the version 3 one.
func TestVerifySignatures(t *testing.T) {
	data := fixtures.SyntheticRPM("synth", "1.0", "1", 1700000000)
	f, err := rpmfile.Read("synth.rpm", data)
	if err != nil {
		t.Fatal(err)
	}
	start, end := f.HeaderRange()
	e := testEntity(t)
	ring := openpgp.EntityList{e}
	v3 := withSignature(t, data, 268, v3Signature(t, e, data[start:end]))
	var v4sig bytes.Buffer
	if err := openpgp.DetachSign(&v4sig, e, bytes.NewReader(data[start:end]), nil); err != nil {
		t.Fatal(err)
	}
	v4 := withSignature(t, data, 268, v4sig.Bytes())
	for name, d := range map[string][]byte{"v3": v3, "v4": v4} {
		got, err := rpmfile.VerifySignatures(ring, name+".rpm", d)
		if err != nil || len(got) != 1 || got[0].Signer != e || got[0].KeyID != e.PrimaryKey.KeyId {
			t.Fatalf("%s: %+v, %v", name, got, err)
		}
	}
	other := openpgp.EntityList{testEntity(t)}
	if _, err := rpmfile.VerifySignatures(other, "v3.rpm", v3); err == nil || !strings.Contains(err.Error(), "NOKEY") {
		t.Errorf("v3 with another key: %v", err)
	}
	if _, err := rpmfile.VerifySignatures(ring, "plain.rpm", data); !errors.Is(err, rpmfile.ErrUnsigned) {
		t.Errorf("unsigned: %v", err)
	}
	n := len(v3Signature(t, e, data[start:end]))
	forged, err := fixtures.TamperSigValue(v3, 268, n, func(v []byte) { v[n-1] ^= 1 }) // the RSA value's last byte
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rpmfile.VerifySignatures(ring, "forged.rpm", forged); err == nil || !strings.Contains(err.Error(), "forged.rpm: RSAHEADER (268) signature") {
		t.Errorf("forged v3: %v", err)
	}
	// The real rpm reads our version 3 signature the same way.
	var pub bytes.Buffer
	w, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	e.Serialize(w)
	w.Close()
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "v3.rpm"), filepath.Join(dir, "forged.rpm")}
	os.WriteFile(files[0], v3, 0o644)
	os.WriteFile(files[1], forged, 0o644)
	bad, err := sign.RPMKeysCheck(pub.Bytes(), files)
	if err != nil || len(bad) != 1 || !strings.HasPrefix(bad[0], files[1]) {
		t.Fatalf("rpmkeys: %q, %v; want only the forged one refused", bad, err)
	}
}
