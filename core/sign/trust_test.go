package sign

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
)

func otherKey(t *testing.T) *Key {
	t.Helper()
	k, err := Generate("Mallory <mallory@evil.example>", 2048, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignerNamesTheKey(t *testing.T) {
	k, m := key(t), otherKey(t)
	data := []byte("manifest\n")
	for _, armored := range []bool{false, true} {
		sig, err := k.Detached(data, time.Unix(1700000100, 0))
		if armored {
			sig, err = k.ArmoredDetached(data, time.Unix(1700000100, 0))
		}
		if err != nil {
			t.Fatal(err)
		}
		e, err := Signer(k.Public(), data, sig)
		if err != nil || Fingerprint(e) != k.Fingerprint() {
			t.Errorf("armored %v: signer %v, %v", armored, e, err)
		}
		var mm *MismatchError
		if _, err := Signer(k.Public(), []byte("manifest!\n"), sig); !errors.As(err, &mm) {
			t.Errorf("armored %v: changed data: %v", armored, err)
		}
		var ue *UntrustedError
		_, err = Signer(m.Public(), data, sig)
		if !errors.As(err, &ue) || ue.Issuer() != k.Fingerprint() || !strings.Contains(err.Error(), k.Fingerprint()+", which is not a trusted key") {
			t.Errorf("armored %v: untrusted: %v", armored, err)
		}
		if f := ue.Find(append(m.Public(), k.Public()...)); f == nil || Fingerprint(f) != k.Fingerprint() {
			t.Errorf("Find: %v", f)
		}
		if _, err := Signer(k.Public(), data, []byte("junk")); err == nil || !strings.Contains(err.Error(), "not a signature") {
			t.Errorf("junk signature: %v", err)
		}
	}
}

func TestTrust(t *testing.T) {
	k, m := key(t), otherKey(t)
	dir := t.TempDir()
	pub, _ := k.PublicArmored()
	mpub, _ := m.PublicArmored()
	file := filepath.Join(dir, "both.asc")
	os.WriteFile(file, append(append([]byte{}, pub...), mpub...), 0o644)

	var tr Trust
	if err := tr.AddFile(file); err != nil {
		t.Fatal(err)
	}
	if len(tr.Ring()) != 2 || tr.Source(k.Public()[0]) != file {
		t.Errorf("two keys in one file: %d, %q", len(tr.Ring()), tr.Source(k.Public()[0]))
	}
	os.WriteFile(filepath.Join(dir, "junk"), []byte("junk"), 0o644)
	if err := tr.AddFile(filepath.Join(dir, "junk")); err == nil || !strings.Contains(err.Error(), "junk: not an OpenPGP public key") {
		t.Errorf("junk key file: %v", err)
	}

	// A pin takes only the offered key with its fingerprint.
	var pinned Trust
	if err := pinned.Pin("0x" + strings.ToLower(k.Fingerprint())); err != nil {
		t.Fatal(err)
	}
	if err := pinned.Pin("1234"); err == nil {
		t.Error("a short fingerprint was pinned")
	}
	if took := pinned.Offer(mpub, "keys/evil"); len(took) != 0 || len(pinned.Ring()) != 0 {
		t.Errorf("an unpinned key was taken: %v", took)
	}
	if u := pinned.Unmatched(); len(u) != 1 || u[0] != k.Fingerprint() {
		t.Errorf("unmatched: %v", u)
	}
	if took := pinned.Offer(pub, "keys/good"); len(took) != 1 || !strings.Contains(pinned.Source(took[0]), "pinned fingerprint, key from keys/good") {
		t.Errorf("the pinned key: %v %q", took, pinned.Source(k.Public()[0]))
	}
	if len(pinned.Unmatched()) != 0 {
		t.Errorf("still unmatched: %v", pinned.Unmatched())
	}
}

// The rpm keyring is what the real rpm under a root trusts: empty, then
// the key rpmkeys --import put there.
func TestTrustRPMKeyring(t *testing.T) {
	k := key(t)
	root := t.TempDir()
	var empty Trust
	if err := empty.AddRPMKeyring(root); err != nil || len(empty.Ring()) != 0 {
		t.Fatalf("an empty root: %v %d", err, len(empty.Ring()))
	}
	if entries, _ := os.ReadDir(root); len(entries) > 0 {
		t.Errorf("reading the keyring of an empty root wrote into it: %v", entries)
	}
	pub, _ := k.PublicArmored()
	file := filepath.Join(t.TempDir(), "key.asc")
	os.WriteFile(file, pub, 0o644)
	m, _ := otherKey(t).PublicArmored()
	mfile := filepath.Join(t.TempDir(), "m.asc")
	os.WriteFile(mfile, m, 0o644)
	for _, f := range []string{file, mfile} {
		if out, err := exec.Command("rpmkeys", "--root", root, "--import", f).CombinedOutput(); err != nil {
			t.Fatalf("rpmkeys --import: %v %s", err, out)
		}
	}
	var tr Trust
	if err := tr.AddRPMKeyring(root); err != nil {
		t.Fatal(err)
	}
	var fprs []string
	for _, e := range tr.Ring() {
		fprs = append(fprs, Fingerprint(e))
	}
	if len(fprs) != 2 || tr.Source(k.Public()[0]) != "the rpm keyring of "+root {
		t.Errorf("rpm keyring: %v, source %q", fprs, tr.Source(k.Public()[0]))
	}
	sig, _ := k.ArmoredDetached([]byte("x"), time.Unix(1700000100, 0))
	if e, err := Signer(tr.Ring(), []byte("x"), sig); err != nil || Fingerprint(e) != k.Fingerprint() {
		t.Errorf("checked with the rpm keyring: %v", err)
	}
	var _ openpgp.KeyRing = tr.Ring()
}
