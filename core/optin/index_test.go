package optin

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/treefs"
)

func testKey(t *testing.T, uid string) *sign.Key {
	t.Helper()
	k, err := sign.Generate(uid, 2048, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// publication writes a signed index naming one SIG and its key.
func publication(t *testing.T, core *sign.Key) (string, *Index) {
	t.Helper()
	dir := t.TempDir()
	sigPub, _ := testKey(t, "T SIG hello <t@example>").PublicArmored()
	os.MkdirAll(filepath.Join(dir, "keys"), 0o755)
	os.WriteFile(filepath.Join(dir, "keys", "RPM-GPG-KEY-t-sig-hello"), sigPub, 0o644)
	corePub, _ := core.PublicArmored()
	os.WriteFile(filepath.Join(dir, "keys", "RPM-GPG-KEY-t"), corePub, 0o644)
	x := &Index{Distribution: "t", PrettyName: "T Linux", Key: "RPM-GPG-KEY-t", SIGs: []SIG{{Name: "hello", Version: "1.0", Description: "hi",
		Repos: []Repo{{ID: "extras", Name: "Extras"}}, Key: "RPM-GPG-KEY-t-sig-hello", KeySHA256: store.Digest(sigPub)}}}
	if err := x.Write(dir, core, time.Unix(1700000100, 0)); err != nil {
		t.Fatal(err)
	}
	return dir, x
}

func TestLoadChecksTheSignature(t *testing.T) {
	core, other := testKey(t, "T <t@example>"), testKey(t, "Mallory <m@example>")
	dir, _ := publication(t, core)
	var trust sign.Trust
	trust.Add(core.Public(), "test")
	x, signer, err := Load(dir, &trust)
	if err != nil || sign.Fingerprint(signer) != core.Fingerprint() || x.SIGs[0].Name != "hello" {
		t.Fatalf("Load: %v", err)
	}

	// Signed by another key: refused, naming it.
	var wrong sign.Trust
	wrong.Add(other.Public(), "test")
	if _, _, err := Load(dir, &wrong); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "sigs.json.asc")+": signed by key "+core.Fingerprint()+" (T <t@example>)") {
		t.Errorf("another key: %v", err)
	}
	// No key at all.
	if _, _, err := Load(dir, &sign.Trust{}); !errors.Is(err, sign.ErrNoTrustedKey) {
		t.Errorf("no trust: %v", err)
	}
	// A pin takes the publication's key only with its fingerprint.
	var pinned sign.Trust
	pinned.Pin(core.Fingerprint())
	if _, _, err := Load(dir, &pinned); err != nil {
		t.Errorf("pinned: %v", err)
	}
	var pinnedOther sign.Trust
	pinnedOther.Pin(other.Fingerprint())
	if _, _, err := Load(dir, &pinnedOther); !errors.Is(err, sign.ErrNoTrustedKey) {
		t.Errorf("pinned to another key: %v", err)
	}

	// Changed after signing.
	data, _ := os.ReadFile(filepath.Join(dir, IndexFile))
	os.WriteFile(filepath.Join(dir, IndexFile), []byte(strings.Replace(string(data), `"hi"`, `"ho"`, 1)), 0o644)
	if _, _, err := Load(dir, &trust); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "sigs.json")+": does not match its signature sigs.json.asc") {
		t.Errorf("changed: %v", err)
	}
	os.Remove(filepath.Join(dir, SignatureFile))
	if _, _, err := Load(dir, &trust); err == nil || !strings.Contains(err.Error(), "sigs.json: not signed") {
		t.Errorf("unsigned: %v", err)
	}
}

func TestEnableChecksTheKey(t *testing.T) {
	core := testKey(t, "T <t@example>")
	dir, _ := publication(t, core)
	var trust sign.Trust
	trust.Add(core.Public(), "test")
	x, _, err := Load(dir, &trust)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if _, err := Enable(root, x, "hello", "", dir, RPMOwner); err != nil {
		t.Fatalf("enable: %v", err)
	}
	Disable(root, "t", "hello", "RPM-GPG-KEY-t-sig-hello", RPMOwner)
	other, _ := testKey(t, "Mallory <m@example>").PublicArmored()
	os.WriteFile(filepath.Join(dir, "keys", "RPM-GPG-KEY-t-sig-hello"), other, 0o644)
	_, err = Enable(root, x, "hello", "", dir, RPMOwner)
	if err == nil || !strings.Contains(err.Error(), "RPM-GPG-KEY-t-sig-hello: sha256 differs from the signed sigs.json") {
		t.Errorf("a swapped key: %v", err)
	}
	// A symlink where the key was: not followed.
	os.Remove(filepath.Join(dir, "keys", "RPM-GPG-KEY-t-sig-hello"))
	os.Symlink("/etc/passwd", filepath.Join(dir, "keys", "RPM-GPG-KEY-t-sig-hello"))
	if _, err := Enable(root, x, "hello", "", dir, RPMOwner); !errors.Is(err, treefs.ErrSymlink) {
		t.Errorf("a symlinked key: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "etc", "pki", "rpm-gpg")); len(entries) != 0 {
		t.Errorf("refused enables wrote %v", entries)
	}
}

// Names become file names and .repo lines: a signed index cannot make
// either leave its place.
func TestCheckRefusesNames(t *testing.T) {
	good := func() *Index {
		return &Index{Distribution: "t", PrettyName: "T", SIGs: []SIG{{Name: "hello", Key: "K", Repos: []Repo{{ID: "extras", Name: "Extras", Arches: []string{"x86_64"}}}}}}
	}
	if err := good().Check(); err != nil {
		t.Fatal(err)
	}
	for what, edit := range map[string]func(x *Index){
		`key "../../etc/shadow"`:   func(x *Index) { x.SIGs[0].Key = "../../etc/shadow" },
		`SIG "a/b"`:                func(x *Index) { x.SIGs[0].Name = "a/b" },
		`distribution ".."`:        func(x *Index) { x.Distribution = ".." },
		`repository "x]\n[evil"`:   func(x *Index) { x.SIGs[0].Repos[0].ID = "x]\n[evil" },
		`"Extras\nbaseurl=http:`:   func(x *Index) { x.SIGs[0].Repos[0].Name = "Extras\nbaseurl=http://evil/" },
		`arch "x86_64/../../etc"`:  func(x *Index) { x.SIGs[0].Repos[0].Arches[0] = "x86_64/../../etc" },
		`pretty "T\r\ngpgcheck=0"`: func(x *Index) { x.PrettyName = "T\r\ngpgcheck=0" },
	} {
		x := good()
		edit(x)
		if err := x.Check(); err == nil {
			t.Errorf("%s: accepted", what)
		}
	}
	if _, err := Fetch(t.TempDir(), "../x"); !errors.Is(err, treefs.ErrOutside) {
		t.Errorf("Fetch ../x: %v", err)
	}
}
