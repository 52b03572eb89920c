package publish

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/treefs"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// signedCompose publishes a compose with one core and one SIG package
// and a signed manifest into a plain folder.
func signedCompose(t *testing.T) (out string, key *sign.Key, m *Manifest) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, err = sign.Generate("T <t@example>", 2048, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	art := func(name, sig string) compose.Artifact {
		d, err := st.Put(fixtures.SyntheticRPM(name, "1.0", "1", 1700000000))
		if err != nil {
			t.Fatal(err)
		}
		return compose.Artifact{File: name + "-1.0-1.x86_64.rpm", SHA256: d, Name: name, Arch: "x86_64", Repo: "extras", Job: name + "/x86_64", SIG: sig}
	}
	pub := &Publisher{Out: t.TempDir()}
	d, err := pub.Begin()
	if err != nil {
		t.Fatal(err)
	}
	comp := &compose.Composer{Store: st, Cache: t.TempDir(), Key: key, KeyName: "RPM-GPG-KEY-t", Arches: []string{"x86_64"}}
	res, err := comp.Compose(context.Background(), d.Dir(), []compose.Artifact{art("core", ""), art("hello", "hello")})
	if err != nil {
		t.Fatal(err)
	}
	m = &Manifest{Distribution: "t", Key: key.Fingerprint(), Artifacts: res.Artifacts, Repositories: res.Repos}
	if err := m.Write(d.Dir(), key, time.Unix(1700000100, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Commit(time.Unix(1700000200, 0)); err != nil {
		t.Fatal(err)
	}
	return pub.CurrentDir(), key, m
}

func TestManifestCoversEveryFile(t *testing.T) {
	dir, key, m := signedCompose(t)
	var files []string
	for _, f := range m.Files {
		files = append(files, f.Path)
	}
	got := strings.Join(files, " ")
	for _, want := range []string{"keys/RPM-GPG-KEY-t", "repos/extras/x86_64/repodata/repomd.xml", "repos/extras/x86_64/repodata/repomd.xml.asc", "sig/hello/extras/x86_64/RPM-GPG-KEY-t"} {
		if !strings.Contains(got, want) {
			t.Errorf("the manifest's files lack %s: %s", want, got)
		}
	}
	if strings.Contains(got, ".rpm") || strings.Contains(got, ManifestFile) {
		t.Errorf("the manifest's files list RPMs or itself: %s", got)
	}
	tr, _ := treefs.Open(dir)
	defer tr.Close()
	if _, signer, err := ReadManifest(tr, key.Public(), nil); err != nil || sign.Fingerprint(signer) != key.Fingerprint() {
		t.Errorf("the manifest's signature: %v", err)
	}
	// The same compose and key give the same bytes.
	asc, _ := os.ReadFile(filepath.Join(dir, SignatureFile))
	if err := m.Write(dir, key, time.Unix(1700000100, 0)); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, SignatureFile)); string(again) != string(asc) {
		t.Error("signing the same manifest again gave other bytes")
	}
	// A draft holding a symlink is not signed.
	again := t.TempDir()
	os.Symlink(filepath.Join(dir, "keys"), filepath.Join(again, "keys"))
	if err := m.Write(again, key, time.Unix(1700000100, 0)); err == nil || !strings.Contains(err.Error(), filepath.Join(again, "keys")+": a symlink to ") {
		t.Errorf("a compose with a symlink was signed: %v", err)
	}
}

func TestCarryChecksWhatItCarries(t *testing.T) {
	prev, key, _ := signedCompose(t)
	carried, err := Carry(prev, t.TempDir(), "hello", "RPM-GPG-KEY-t", key.Public())
	if err != nil || len(carried.Artifacts) != 1 || carried.Artifacts[0].Name != "hello" || strings.Join(carried.Repos, " ") != "sig/hello/extras/x86_64" {
		t.Fatalf("carry: %+v %v", carried, err)
	}
	other, _ := sign.Generate("M <m@example>", 2048, time.Unix(1700000000, 0))
	if _, err := Carry(prev, t.TempDir(), "hello", "RPM-GPG-KEY-t", other.Public()); err == nil || !strings.Contains(err.Error(), "manifest.json.asc: signed by key "+key.Fingerprint()) {
		t.Errorf("carry from a compose signed by another key: %v", err)
	}
	// A SIG file changed on disk since it was signed is not carried into
	// a compose that would sign it again.
	repomd := filepath.Join(prev, "sig", "hello", "extras", "x86_64", "repodata", "repomd.xml")
	data, _ := os.ReadFile(repomd)
	os.Remove(repomd)
	os.WriteFile(repomd, append(data, ' '), 0o644)
	if _, err := Carry(prev, t.TempDir(), "hello", "RPM-GPG-KEY-t", key.Public()); err == nil || !strings.Contains(err.Error(), repomd+": not the file its signed manifest.json lists; not carried") {
		t.Errorf("carry of a changed file: %v", err)
	}
}
