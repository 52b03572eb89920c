package optin

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/store"
)

// sigKeys are the keys of the two SIGs twoSIGs publishes.
func sigKeys(t *testing.T) map[string]*sign.Key {
	t.Helper()
	return map[string]*sign.Key{"zeta": testKey(t, "T SIG zeta <zeta@example>"), "alpha": testKey(t, "T SIG alpha <alpha@example>")}
}

// twoSIGs is a publication in dir with two SIGs, written out of order,
// and their keys under keys/.
func twoSIGs(t *testing.T, dir string, core *sign.Key, keys map[string]*sign.Key, at time.Time) *Index {
	t.Helper()
	os.MkdirAll(filepath.Join(dir, "keys"), 0o755)
	corePub, _ := core.PublicArmored()
	os.WriteFile(filepath.Join(dir, "keys", "RPM-GPG-KEY-t"), corePub, 0o644)
	x := &Index{Distribution: "t", PrettyName: "T Linux ünï", Key: "RPM-GPG-KEY-t"}
	for _, name := range []string{"zeta", "alpha"} {
		k := keys[name]
		pub, _ := k.PublicArmored()
		keyName := "RPM-GPG-KEY-t-sig-" + name
		os.WriteFile(filepath.Join(dir, "keys", keyName), pub, 0o644)
		x.SIGs = append(x.SIGs, SIG{Name: name, Version: "2.1", Description: "the " + name + " SIG",
			Repos: []Repo{{ID: "extras", Name: "Extras", Arches: []string{"x86_64", "aarch64"}}, {ID: "testing", Name: "Testing", Description: "not yet"}},
			Key:   keyName, KeySHA256: store.Digest(pub), KeyFingerprint: k.Fingerprint()})
	}
	if err := x.Write(dir, core, at); err != nil {
		t.Fatal(err)
	}
	return x
}

// loadTwoSIGs publishes twoSIGs in a folder and loads its index back,
// trusting the core key.
func loadTwoSIGs(t *testing.T) (*Index, string) {
	t.Helper()
	core := testKey(t, "T <t@example>")
	dir := t.TempDir()
	twoSIGs(t, dir, core, sigKeys(t), time.Unix(1700000100, 0))
	var trust sign.Trust
	trust.Add(core.Public(), "test")
	x, _, err := Load(dir, &trust)
	if err != nil {
		t.Fatal(err)
	}
	return x, dir
}

// TestIndexRoundTrip: what Write signs, Load reads back as it was (SIGs
// sorted by name), from a folder, a file:// URL and over HTTP; the same
// index, key and time give the same bytes.
func TestIndexRoundTrip(t *testing.T) {
	core := testKey(t, "T <t@example>")
	at := time.Unix(1700000100, 0)
	keys := sigKeys(t)
	dir := t.TempDir()
	x := twoSIGs(t, dir, core, keys, at)
	if x.SIGs[0].Name != "alpha" || x.SIGs[1].Name != "zeta" {
		t.Fatalf("Write did not sort the SIGs: %s, %s", x.SIGs[0].Name, x.SIGs[1].Name)
	}
	var trust sign.Trust
	trust.Add(core.Public(), "test")

	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	for _, from := range []string{dir, "file://" + dir, srv.URL, srv.URL + "/"} {
		got, signer, err := Load(from, &trust)
		if err != nil {
			t.Errorf("%s: %v", from, err)
			continue
		}
		if !reflect.DeepEqual(got, x) {
			t.Errorf("%s: read back\n%+v\nwrote\n%+v", from, got, x)
		}
		if sign.Fingerprint(signer) != core.Fingerprint() {
			t.Errorf("%s: signed by %s", from, sign.Fingerprint(signer))
		}
	}

	// Deterministic: the same again is byte-identical; another time
	// changes the signature only.
	again, later := t.TempDir(), t.TempDir()
	twoSIGs(t, again, core, keys, at)
	twoSIGs(t, later, core, keys, at.Add(time.Hour))
	read := func(d, f string) []byte { b, _ := os.ReadFile(filepath.Join(d, f)); return b }
	if !bytes.Equal(read(dir, IndexFile), read(again, IndexFile)) || !bytes.Equal(read(dir, SignatureFile), read(again, SignatureFile)) {
		t.Errorf("the same index, key and time wrote other bytes")
	}
	if !bytes.Equal(read(dir, IndexFile), read(later, IndexFile)) {
		t.Errorf("the index's text depends on the time it was signed")
	}
	if bytes.Equal(read(dir, SignatureFile), read(later, SignatureFile)) {
		t.Errorf("signatures an hour apart are identical")
	}

	// A publication the server does not have: the URL and status named.
	if _, _, err := Load(srv.URL+"/nothing", &trust); err == nil || !strings.Contains(err.Error(), srv.URL+"/nothing/sigs.json: 404") {
		t.Errorf("a missing index over HTTP: %v", err)
	}
}

// TestBadSignaturesAreRefused: sigs.json.asc that is no signature, a
// damaged one, a real one over other bytes, one by a key the publication
// offers but no one trusts, and an index signed by the trusted key whose
// names would leave their folders: each is refused, naming the file.
func TestBadSignaturesAreRefused(t *testing.T) {
	core, mallory := testKey(t, "T <t@example>"), testKey(t, "Mallory <m@example>")
	at := time.Unix(1700000100, 0)
	var trust sign.Trust
	trust.Add(core.Public(), "test")
	var pinned sign.Trust
	pinned.Pin(core.Fingerprint())

	keys := sigKeys(t)
	fresh := func() string {
		dir := t.TempDir()
		twoSIGs(t, dir, core, keys, at)
		return dir
	}
	index := func(dir string) []byte { b, _ := os.ReadFile(filepath.Join(dir, IndexFile)); return b }
	asc := func(dir string) []byte { b, _ := os.ReadFile(filepath.Join(dir, SignatureFile)); return b }
	write := func(dir, name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	for what, c := range map[string]struct {
		edit  func(dir string)
		trust *sign.Trust
		want  string // after the index's or its signature's path
	}{
		"not a signature": {func(d string) { write(d, SignatureFile, []byte("this is not a signature\n")) }, &trust,
			"sigs.json.asc: not a signature"},
		"armor broken": {func(d string) {
			a := asc(d)
			write(d, SignatureFile, append(a[:len(a)/2:len(a)/2], []byte("\n-----END PGP SIGNATURE-----\n")...))
		}, &trust, "sigs.json.asc: not"},
		"signature of other bytes": {func(d string) {
			other, err := core.ArmoredDetached([]byte("another index"), at)
			if err != nil {
				t.Fatal(err)
			}
			write(d, SignatureFile, other)
		}, &trust, "sigs.json: does not match its signature sigs.json.asc"},
		"signature of an older index": {func(d string) {
			// An index signed before, replayed beside a changed one.
			old := index(d)
			write(d, IndexFile, bytes.Replace(old, []byte(`"version": "2.1"`), []byte(`"version": "2.2"`), 1))
		}, &trust, "sigs.json: does not match its signature sigs.json.asc"},
		"signed by the publication's own key": {func(d string) {
			// Mallory re-signs and ships her key as the core's: trusted
			// keys decide, not what the publication carries.
			pub, _ := mallory.PublicArmored()
			write(d, filepath.Join("keys", "RPM-GPG-KEY-t"), pub)
			sig, _ := mallory.ArmoredDetached(index(d), at)
			write(d, SignatureFile, sig)
		}, &trust, "sigs.json.asc: signed by key " + mallory.Fingerprint() + " (Mallory <m@example>), which is not a trusted key"},
		"signed by the publication's own key, core pinned": {func(d string) {
			pub, _ := mallory.PublicArmored()
			write(d, filepath.Join("keys", "RPM-GPG-KEY-t"), pub)
			sig, _ := mallory.ArmoredDetached(index(d), at)
			write(d, SignatureFile, sig)
		}, &pinned, "sigs.json: no trusted key"},
		"signed, with a name leaving its folder": {func(d string) {
			bad := bytes.Replace(index(d), []byte(`"key": "RPM-GPG-KEY-t-sig-alpha"`), []byte(`"key": "../../../etc/shadow"`), 1)
			sig, _ := core.ArmoredDetached(bad, at)
			write(d, IndexFile, bad)
			write(d, SignatureFile, sig)
		}, &trust, `sigs.json: SIG alpha key "../../../etc/shadow": not a plain name`},
		"signed, with a line for the .repo file": {func(d string) {
			bad := bytes.Replace(index(d), []byte(`"name": "Extras"`), []byte(`"name": "Extras\ngpgcheck=0"`), 1)
			sig, _ := core.ArmoredDetached(bad, at)
			write(d, IndexFile, bad)
			write(d, SignatureFile, sig)
		}, &trust, "sigs.json: \"Extras\\ngpgcheck=0\": a line break in a name or description"},
		"signed, not JSON": {func(d string) {
			sig, _ := core.ArmoredDetached([]byte("{"), at)
			write(d, IndexFile, []byte("{"))
			write(d, SignatureFile, sig)
		}, &trust, "sigs.json: unexpected end of JSON input"},
	} {
		dir := fresh()
		c.edit(dir)
		x, _, err := Load(dir, c.trust)
		if err == nil || !strings.Contains(err.Error(), dir+"/"+c.want) {
			t.Errorf("%s: got %v, %v\nwant %q", what, x, err, dir+"/"+c.want)
		}
	}
}

// dnfRepos is what the real dnf lists from the .repo files in reposdir:
// repository id → enabled or disabled.
func dnfRepos(t *testing.T, reposdir string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "dnf.conf")
	os.WriteFile(conf, []byte("[main]\n"), 0o644)
	out, err := exec.Command("dnf", "-q", "--config", conf, "--releasever", "9", "--setopt=reposdir="+reposdir,
		"--setopt=cachedir="+filepath.Join(dir, "cache"), "--installroot", filepath.Join(dir, "root"), "repolist", "--all").CombinedOutput()
	if err != nil {
		t.Fatalf("dnf repolist: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n")[1:] {
		f := strings.Fields(line)
		got[f[0]] = f[len(f)-1]
	}
	return got
}

// TestEnableWritesWhatDNFReads: Enable writes the SIG's key as published
// and a .repo file with its repositories on (or only the one asked for),
// each under the publication and checked against that key; Disable takes
// both away; names that are not plain are refused before any path is
// made of them.
func TestEnableWritesWhatDNFReads(t *testing.T) {
	x, dir := loadTwoSIGs(t)
	root := t.TempDir()
	if Enabled(root, "t", "alpha") {
		t.Fatal("enabled before Enable")
	}
	res, err := Enable(root, x, "alpha", "", dir, RPMOwner)
	if err != nil {
		t.Fatal(err)
	}
	repoFile := res.RepoFile
	wantRepo, wantKey := Paths(root, "t", "alpha", "RPM-GPG-KEY-t-sig-alpha")
	if repoFile != wantRepo || wantRepo != filepath.Join(root, "etc", "yum.repos.d", "t-sig-alpha.repo") || !Enabled(root, "t", "alpha") {
		t.Fatalf("wrote %s, want %s", repoFile, wantRepo)
	}
	key, _ := os.ReadFile(wantKey)
	published, _ := os.ReadFile(filepath.Join(dir, "keys", "RPM-GPG-KEY-t-sig-alpha"))
	if len(key) == 0 || !bytes.Equal(key, published) {
		t.Errorf("the key installed is not the one published")
	}
	text, _ := os.ReadFile(repoFile)
	for _, want := range []string{
		"[t-sig-alpha-extras]\nname=T Linux ünï $releasever - SIG alpha - Extras\nbaseurl=file://" + dir + "/sig/alpha/extras/$basearch/\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-t-sig-alpha\n",
		"[t-sig-alpha-testing]\nname=T Linux ünï $releasever - SIG alpha - Testing\nbaseurl=file://" + dir + "/sig/alpha/testing/$basearch/\nenabled=1\n",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the .repo file has no\n%s\nin\n%s", want, text)
		}
	}
	if Enabled(root, "t", "zeta") {
		t.Error("enabling alpha enabled zeta")
	}

	// Only one repository: the other's section is there, turned off.
	if _, err := Enable(root, x, "zeta", "testing", dir, RPMOwner); err != nil {
		t.Fatal(err)
	}
	text, _ = os.ReadFile(filepath.Join(root, "etc", "yum.repos.d", "t-sig-zeta.repo"))
	if !strings.Contains(string(text), "[t-sig-zeta-extras]\nname=T Linux ünï $releasever - SIG zeta - Extras\nbaseurl=file://"+dir+"/sig/zeta/extras/$basearch/\nenabled=0\n") ||
		!strings.Contains(string(text), "/sig/zeta/testing/$basearch/\nenabled=1\n") {
		t.Errorf("only testing:\n%s", text)
	}
	// dnf reads both files so.
	if got := dnfRepos(t, filepath.Join(root, "etc", "yum.repos.d")); !reflect.DeepEqual(got, map[string]string{
		"t-sig-alpha-extras": "enabled", "t-sig-alpha-testing": "enabled", "t-sig-zeta-extras": "disabled", "t-sig-zeta-testing": "enabled",
	}) {
		t.Errorf("dnf repolist --all: %v", got)
	}
	if _, err := Enable(root, x, "zeta", "stable", dir, RPMOwner); err == nil || err.Error() != `SIG zeta has no repository "stable" (it has extras, testing)` {
		t.Errorf("an unknown repository: %v", err)
	}
	if _, err := Enable(root, x, "gamma", "", dir, RPMOwner); err == nil || err.Error() != `no SIG "gamma": the publication carries alpha, zeta` {
		t.Errorf("an unknown SIG: %v", err)
	}

	if _, err := Disable(root, "t", "alpha", "RPM-GPG-KEY-t-sig-alpha", RPMOwner); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{wantRepo, wantKey} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Disable left %s: %v", p, err)
		}
	}
	if Enabled(root, "t", "alpha") || !Enabled(root, "t", "zeta") {
		t.Error("after Disable alpha: alpha or not zeta enabled")
	}
	if _, err := Disable(root, "t", "alpha", "RPM-GPG-KEY-t-sig-alpha", RPMOwner); err == nil || err.Error() != "SIG alpha is not enabled under "+root {
		t.Errorf("Disable twice: %v", err)
	}
	// A file outside the root that a crafted name would reach is kept.
	victim := filepath.Join(root, "etc", "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	for _, names := range [][3]string{{"t", "zeta", "../victim"}, {"t", "../../etc/victim", "K"}, {"..", "zeta", "K"}} {
		if _, err := Disable(root, names[0], names[1], names[2], RPMOwner); err == nil || !strings.Contains(err.Error(), "not a plain name") {
			t.Errorf("Disable %q: %v", names, err)
		}
	}
	if _, err := os.Stat(victim); err != nil || !Enabled(root, "t", "zeta") {
		t.Errorf("a refused Disable removed something: %v", err)
	}
}
