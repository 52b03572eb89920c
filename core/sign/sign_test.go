package sign

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/testing/fixtures"
)

var (
	keyOnce sync.Once
	testKey *Key
	keyErr  error
)

// key is one 3072-bit key per test process (generation takes a while).
func key(t *testing.T) *Key {
	t.Helper()
	keyOnce.Do(func() {
		testKey, keyErr = Generate("Quarry Test <test@quarry.example>", 3072, time.Unix(1700000000, 0))
	})
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return testKey
}

func richRPMs(t *testing.T) []string {
	t.Helper()
	rpms, err := fixtures.BuildSpec(t.TempDir(), "richpkg", fixtures.RichSpec)
	if err != nil {
		t.Fatal(err)
	}
	return rpms
}

// TestSignedRPMsVerifyWithRPM: signed packages pass the real rpmkeys
// --checksig with only our key trusted, and our own check agrees; the same
// package signed twice gives the same bytes.
func TestSignedRPMsVerifyWithRPM(t *testing.T) {
	k := key(t)
	pub, err := k.PublicArmored()
	if err != nil {
		t.Fatal(err)
	}
	var signed []string
	dir := t.TempDir()
	for _, path := range richRPMs(t) {
		data, _ := os.ReadFile(path)
		out, err := k.RPM(path, data)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := k.RPM(path, data)
		if string(again) != string(out) {
			t.Errorf("%s: signing twice gave different bytes", path)
		}
		if err := VerifyRPM(k.Public(), path, out); err != nil {
			t.Errorf("our check: %v", err)
		}
		p := filepath.Join(dir, filepath.Base(path))
		os.WriteFile(p, out, 0o644)
		signed = append(signed, p)
	}
	bad, err := RPMKeysCheck(pub, signed)
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("rpmkeys rejects signed packages:\n%s", strings.Join(bad, "\n"))
	}
	out, err := exec.Command("rpm", "-qp", "--qf", "%{RSAHEADER:pgpsig}", signed[0]).Output()
	if err != nil || !strings.Contains(string(out), k.KeyID()) {
		t.Fatalf("rpm -qp shows signature %q (%v), want key %s", out, err, k.KeyID())
	}
}

// TestBadSignaturesAreCaught: an unsigned package, a package signed by
// another key and a package altered after signing all fail both checks.
func TestBadSignaturesAreCaught(t *testing.T) {
	k := key(t)
	pub, _ := k.PublicArmored()
	other, err := Generate("Other <other@example.org>", 2048, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	path := richRPMs(t)[0]
	data, _ := os.ReadFile(path)
	dir := t.TempDir()

	if err := VerifyRPM(k.Public(), "unsigned.rpm", data); !errors.Is(err, UnsignedError) {
		t.Errorf("unsigned: %v", err)
	}
	byOther, _ := other.RPM(path, data)
	if err := VerifyRPM(k.Public(), "other.rpm", byOther); err == nil {
		t.Error("a package signed by another key verified")
	}
	mine, _ := k.RPM(path, data)
	altered := append([]byte(nil), mine...)
	altered[len(altered)-10] ^= 0xff
	if err := VerifyRPM(k.Public(), "altered.rpm", altered); err == nil {
		t.Error("an altered package verified")
	}
	files := map[string][]byte{"unsigned.rpm": data, "other.rpm": byOther, "altered.rpm": altered}
	var paths []string
	for name, d := range files {
		p := filepath.Join(dir, name)
		os.WriteFile(p, d, 0o644)
		paths = append(paths, p)
	}
	bad, err := RPMKeysCheck(pub, paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 3 {
		t.Fatalf("rpmkeys flagged %d of 3 bad packages:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}

// TestDetachedAndKeyFiles: a saved key loads back and its detached
// signatures verify against the exported public key; a public key, a
// missing file and garbage are refused with the file named.
func TestDetachedAndKeyFiles(t *testing.T) {
	k := key(t)
	dir := t.TempDir()
	priv := filepath.Join(dir, "core.key")
	if err := k.SavePrivate(priv); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(priv); st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v", st.Mode().Perm())
	}
	loaded, err := Load(priv, "")
	if err != nil || loaded.Fingerprint() != k.Fingerprint() {
		t.Fatalf("reload: %v", err)
	}
	pub, _ := k.PublicArmored()
	ring, err := Keyring(pub)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := loaded.ArmoredDetached([]byte("repomd"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckDetached(ring, []byte("repomd"), sig); err != nil {
		t.Fatal(err)
	}
	if CheckDetached(ring, []byte("repomd!"), sig) == nil {
		t.Fatal("a signature verified other data")
	}
	pubFile := filepath.Join(dir, "pub.asc")
	os.WriteFile(pubFile, pub, 0o644)
	junk := filepath.Join(dir, "junk.key")
	os.WriteFile(junk, []byte("not a key"), 0o600)
	for _, f := range []string{pubFile, junk, filepath.Join(dir, "missing.key")} {
		_, err := Load(f, "")
		var ke *KeyError
		if !errors.As(err, &ke) || !strings.Contains(err.Error(), f) {
			t.Errorf("%s: got %v", f, err)
		}
	}
}
