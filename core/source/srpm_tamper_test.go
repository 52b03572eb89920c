package source_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/source"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// TestTamperedSRPMsAreRefused: an SRPM built by rpmbuild (and one signed
// like rpmsign signs) is imported; the same files changed byte-wise in
// their signature header are each refused, naming the file and what is
// wrong. What the real rpm says of each is recorded: rpmkeys -K
// --nosignature checks every digest, but rpmkeys --checksig trusting the
// key skips the digests a verified header signature covers, so it accepts
// a changed MD5 or SHA256; neither checks SIZE (rpm only prints it) or
// wants a signature region to span its header. Quarry refuses them all:
// every digest present must match, and nothing may sit outside the region.
func TestTamperedSRPMsAreRefused(t *testing.T) {
	dir := t.TempDir()
	path, err := fixtures.BuildSRPMWith(dir, "seed", fixtures.SeedSpec, fixtures.SeedSources())
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := os.ReadFile(path)
	k, err := sign.Generate("Tamper Test <tamper@quarry.example>", 2048, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := k.RPM("seed.src.rpm", plain)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"plain": plain, "signed": signed} {
		if _, err := source.ReadSRPM(name+".src.rpm", data); err != nil {
			t.Fatalf("untampered %s SRPM: %v", name, err)
		}
	}
	pub, err := k.PublicArmored()
	if err != nil {
		t.Fatal(err)
	}
	flip := func(v []byte) { v[0] ^= 0x01 }
	cases := []struct {
		name         string
		base         []byte
		edit         func([]byte) ([]byte, error)
		want         string
		digestsOK    bool // rpmkeys -K --nosignature
		signaturesOK bool // rpmkeys --checksig, trusting the key
	}{
		{"md5-changed", signed, func(d []byte) ([]byte, error) { return fixtures.TamperSigValue(d, 1004, 1, flip) }, "MD5 digest mismatch", false, true},
		{"sha256-changed", signed, func(d []byte) ([]byte, error) {
			return fixtures.TamperSigValue(d, 273, 1, func(v []byte) { v[0] = "01"[map[bool]int{true: 1}[v[0] == '0']] })
		}, "header SHA256 digest mismatch", false, true},
		{"size-changed", signed, func(d []byte) ([]byte, error) { return fixtures.TamperSigValue(d, 1000, 4, func(v []byte) { v[3]++ }) }, "size mismatch", true, true},
		{"sha256-as-bin", signed, func(d []byte) ([]byte, error) { return fixtures.TamperSigType(d, 273, rpmfile.TypeBin) }, "SHA256 (273) has type 7", false, true},
		{"md5-twice", signed, func(d []byte) ([]byte, error) { return fixtures.DuplicateSigTag(d, 1004) }, "tag 1004 appears twice", false, false},
		{"region-short", signed, func(d []byte) ([]byte, error) {
			return fixtures.TamperSigValue(d, rpmfile.RegionSignatures, 16, func(v []byte) { v[11] += 16 }) // trailer spans one entry less
		}, "does not span the header", true, true},
		{"rsa-version", signed, func(d []byte) ([]byte, error) {
			return fixtures.TamperSigValue(d, 268, 4, func(v []byte) { v[pgpBodyStart(v)] = 5 })
		}, "RSAHEADER (268): not an OpenPGP signature: signature version 5", true, false},
		{"rsa-as-int8", signed, func(d []byte) ([]byte, error) { return fixtures.TamperSigType(d, 268, rpmfile.TypeInt8) }, "RSAHEADER (268) has type 2", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad, err := tc.edit(tc.base)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, tc.name+".src.rpm")
			os.WriteFile(file, bad, 0o644)
			_, err = source.ReadSRPM(tc.name+".src.rpm", bad)
			if err == nil || !strings.HasPrefix(err.Error(), "SRPM "+tc.name+".src.rpm: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadSRPM: %v; want an error naming the file and %q", err, tc.want)
			}
			bad2, rpmErr := sign.RPMKeysCheck(pub, []string{file})
			if rpmErr != nil {
				t.Fatal(rpmErr)
			}
			if ok := len(bad2) == 0; ok != tc.signaturesOK {
				t.Errorf("rpmkeys --checksig: %q; expected OK: %v", bad2, tc.signaturesOK)
			}
			out, err := exec.Command("rpmkeys", "-K", "--nosignature", file).CombinedOutput()
			if ok := err == nil; ok != tc.digestsOK {
				t.Errorf("rpmkeys -K --nosignature: %v: %s; expected OK: %v", err, out, tc.digestsOK)
			}
		})
	}
	// A changed signature that is still a well-formed one reads (there is
	// no key to check it against here), and fails against the key.
	forged, err := fixtures.TamperSigValue(signed, 268, 300, func(v []byte) { v[299] ^= 0x01 })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := source.ReadSRPM("forged.src.rpm", forged); err != nil {
		t.Fatalf("a well-formed forged signature is not refused without a key, but: %v", err)
	}
	if err := sign.VerifyRPM(k.Public(), "forged.src.rpm", forged); err == nil || !strings.Contains(err.Error(), "forged.src.rpm: RSAHEADER (268) signature") {
		t.Fatalf("VerifyRPM of a forged signature: %v", err)
	}
	file := filepath.Join(dir, "forged.src.rpm")
	os.WriteFile(file, forged, 0o644)
	os.WriteFile(filepath.Join(dir, "signed.src.rpm"), signed, 0o644)
	if bad, _ := sign.RPMKeysCheck(pub, []string{file, filepath.Join(dir, "signed.src.rpm")}); len(bad) != 1 || !strings.HasPrefix(bad[0], file) {
		t.Fatalf("rpmkeys --checksig: %q; want the forged file alone refused", bad)
	}
}

// pgpBodyStart is where the body of the OpenPGP packet at the start of v
// begins (the version byte).
func pgpBodyStart(v []byte) int {
	if v[0]&0x40 != 0 {
		return 2 + map[bool]int{true: 1}[v[1] >= 192] + map[bool]int{true: 3}[v[1] == 255]
	}
	return 1 + []int{1, 2, 4, 0}[v[0]&3]
}
