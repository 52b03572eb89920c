package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/quarrylinux/quarry/core/sign"
)

// copyCompose copies the current compose to dir, three folders below a
// scratch folder base (so that ../../../x from it is base/x).
func copyCompose(t *testing.T, d *distro) (dir, base string) {
	t.Helper()
	base = t.TempDir()
	dir = filepath.Join(base, "a", "b", "c")
	os.MkdirAll(dir, 0o755)
	if out, err := exec.Command("cp", "-a", filepath.Join(d.out(), "current")+"/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return dir, base
}

// replace writes a file of a copied compose anew (copies keep hard links
// between identical files: never write through one).
func replace(t *testing.T, path string, data []byte) {
	t.Helper()
	os.Remove(path)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// editManifest changes a copied compose's manifest and signs it again
// with the real core key: what remains to stop the change is not the
// signature.
func editManifest(t *testing.T, d *distro, dir string, edit func(m map[string]any)) {
	t.Helper()
	data, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	data, _ = json.MarshalIndent(m, "", "  ")
	key, err := sign.Load(filepath.Join(d.state, "keys", "core.key"), "")
	if err != nil {
		t.Fatal(err)
	}
	asc, _ := key.ArmoredDetached(data, time.Now())
	replace(t, filepath.Join(dir, "manifest.json"), data)
	replace(t, filepath.Join(dir, "manifest.json.asc"), asc)
}

// watchOpens reports whether anything opened path after the call: an
// inotify watch, read once the command has exited.
func watchOpens(t *testing.T, path string) func() bool {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, path, unix.IN_OPEN|unix.IN_ACCESS); err != nil {
		t.Fatal(err)
	}
	return func() bool {
		buf := make([]byte, 4096)
		n, _ := unix.Read(fd, buf)
		return n > 0
	}
}

// refused runs a command that must fail with exit code and print want.
func refused(t *testing.T, d *distro, want []string, code int, args ...string) string {
	t.Helper()
	stdout, stderr, got := d.run(args...)
	t.Logf("quarry %s: exit %d\n%s%s", strings.Join(args, " "), got, stdout, stderr)
	for _, w := range want {
		if !strings.Contains(stdout+stderr, w) {
			t.Errorf("quarry %s: no %q in\n%s%s", strings.Join(args, " "), w, stdout, stderr)
		}
	}
	if got != code {
		t.Errorf("quarry %s: exit %d, want %d\n%s%s", strings.Join(args, " "), got, code, stdout, stderr)
	}
	return stdout
}

// TestVerifyRefusesTamperedTrees publishes the example with a SIG, then
// attacks copies of the publication the ways issue 14 describes: quarry
// verify and quarry sig enable must refuse each with a message naming
// the file, open nothing outside the tree, follow no symlink, trust no
// key the tree brings along, and leave out/current and quarry.lock as
// they were.
func TestVerifyRefusesTamperedTrees(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.editConfig("arches: [x86_64, aarch64, ppc64le, s390x]", "arches: [x86_64]")
	d.keyInit()
	buildSIG(t, filepath.Join(d.dir, "bin"), "hello", "./examples/hello-sig")
	raw, _ := os.ReadFile(d.config())
	d.writeConfig(string(raw) + "\nsigs:\n  - name: hello\n    config:\n      greeting: Hello from a test\n")
	d.mustRun("plugin", "lock")
	d.mustRun("key", "init", "--bits", "2048", "--sig", "hello")
	d.mustRun("build")
	cur := filepath.Join(d.out(), "current")
	real, _ := filepath.EvalSymlinks(cur)
	pub := d.pubKey()
	coreKey, err := sign.Load(filepath.Join(d.state, "keys", "core.key"), "")
	if err != nil {
		t.Fatal(err)
	}
	fpr := coreKey.Fingerprint()
	before := d.published()

	// The publication verifies with the core's public key, and says which
	// key signed what.
	out := d.mustRun("verify", cur, "--key", pub)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`core key ` + fpr + ` "Pebble Linux <[^>]+>" \(trusted: ` + regexp.QuoteMeta(pub) + `\) signed 1 manifest.json, 1 sigs.json, \d+ repomd.xml, \d+ RPMs, \d+ provenance, \d+ other files by digest`),
		regexp.MustCompile(`SIG hello key [0-9A-F]{40} "Pebble Linux SIG hello <[^>]+>" \(trusted: SIG hello's key, named in the signed sigs.json\) signed 2 repomd.xml, 2 RPMs`),
		regexp.MustCompile(regexp.QuoteMeta(cur) + `: everything verifies: \d+ files, each covered by a signature of a trusted key`),
	} {
		if !want.MatchString(out) {
			t.Errorf("verify: no %s in\n%s", want, out)
		}
	}
	var report struct {
		Compose  string
		Problems []string
		Signers  []struct {
			Fingerprint string
			Signed      map[string]int
		}
	}
	out = d.mustRun("--json", "verify", "--key", pub, cur)
	if err := json.Unmarshal([]byte(out), &report); err != nil || report.Compose != real || len(report.Problems) != 0 ||
		len(report.Signers) != 2 || report.Signers[0].Fingerprint != fpr || report.Signers[0].Signed["RPMs"] < 20 {
		t.Errorf("verify --json: %v\n%s", err, out)
	}

	// Trust comes from the user, never from the tree: the rpm keyring by
	// default (empty here: refused, saying how to give a key), a pinned
	// fingerprint (whose key material may come from the tree).
	keyRoot := t.TempDir()
	refused(t, d, []string{"no trusted key: the rpm keyring of " + keyRoot + " holds no key", "--key FILE", "--fingerprint FPR"}, 2, "verify", cur, "--root", keyRoot)
	if out, err := exec.Command("rpmkeys", "--root", keyRoot, "--import", pub).CombinedOutput(); err != nil {
		t.Fatalf("rpmkeys --import: %v %s", err, out)
	}
	if out := d.mustRun("verify", cur, "--root", keyRoot); !strings.Contains(out, "(trusted: the rpm keyring of "+keyRoot+")") {
		t.Errorf("verify with the rpm keyring:\n%s", out)
	}
	if out := d.mustRun("sig", "list", "--from", cur, "--root", keyRoot); !strings.Contains(out, "hello      1.0.0    disabled") {
		t.Errorf("sig list with the root's rpm keyring:\n%s", out)
	}
	if out := d.mustRun("verify", cur, "--fingerprint", fpr); !strings.Contains(out, "(trusted: pinned fingerprint, key from "+real+"/keys/RPM-GPG-KEY-pebble)") {
		t.Errorf("verify with a pinned fingerprint:\n%s", out)
	}

	// A zeroed digest in the manifest: its signature no longer holds, and
	// nothing else is trusted.
	bad, _ := copyCompose(t, d)
	m, _ := os.ReadFile(filepath.Join(bad, "manifest.json"))
	zeroed := regexp.MustCompile(`"signed_sha256": "[0-9a-f]{64}"`).ReplaceAll(m, []byte(`"signed_sha256": "`+strings.Repeat("0", 64)+`"`))
	replace(t, filepath.Join(bad, "manifest.json"), zeroed)
	refused(t, d, []string{bad + "/manifest.json: does not match its signature manifest.json.asc (changed after signing?); nothing else was checked (trusted: " + fpr}, 1, "verify", bad, "--key", pub)
	// Zeroed and signed again with the real key: the RPMs do not match.
	bad, _ = copyCompose(t, d)
	var first string
	editManifest(t, d, bad, func(m map[string]any) {
		a := m["artifacts"].([]any)[0].(map[string]any)
		a["signed_sha256"] = strings.Repeat("0", 64)
		first = a["paths"].([]any)[0].(string)
	})
	refused(t, d, []string{filepath.Join(bad, first) + ": sha256 differs from manifest.json"}, 1, "verify", bad, "--key", pub)

	// An edited sigs.json: refused by verify and by sig enable, which
	// writes nothing.
	bad, _ = copyCompose(t, d)
	idx, _ := os.ReadFile(filepath.Join(bad, "sigs.json"))
	replace(t, filepath.Join(bad, "sigs.json"), bytes.Replace(idx, []byte("the starter SIG"), []byte("a friendly SIG"), 1))
	refused(t, d, []string{bad + "/sigs.json: does not match its signature sigs.json.asc", bad + "/sigs.json: sha256 differs from manifest.json"}, 1, "verify", bad, "--key", pub)
	root := t.TempDir()
	refused(t, d, []string{bad + "/sigs.json: does not match its signature sigs.json.asc (changed after signing?)"}, 1, "sig", "enable", "hello", "--from", bad, "--root", root, "--key", pub)
	if files := treeDigests(t, root); len(files) != 0 {
		t.Errorf("sig enable of a tampered index wrote %v", files)
	}

	// A provenance path out of the tree, in a manifest signed with the
	// real key: refused by name, and the file there is never opened.
	bad, base := copyCompose(t, d)
	os.MkdirAll(filepath.Join(base, "etc"), 0o755)
	passwd := filepath.Join(base, "etc", "passwd")
	os.WriteFile(passwd, []byte("root:x:0:0::/root:/bin/sh\n"), 0o644)
	opened := watchOpens(t, passwd)
	var file string
	editManifest(t, d, bad, func(m map[string]any) {
		a := m["artifacts"].([]any)[0].(map[string]any)
		a["provenance"] = "../../../etc/passwd"
		file = a["file"].(string)
		m["files"] = append(m["files"].([]any), map[string]any{"path": "../../../etc/passwd", "sha256": strings.Repeat("0", 64)})
	})
	refused(t, d, []string{
		file + `: its provenance in the manifest, "../../../etc/passwd", is not a path inside the compose; not opened`,
		bad + `/manifest.json: file "../../../etc/passwd" is not a path inside the compose; not opened`,
	}, 1, "verify", bad, "--key", pub)
	if opened() {
		t.Errorf("verify opened %s", passwd)
	}
	os.ReadFile(passwd)
	if !opened() {
		t.Fatal("the inotify watch sees no open: it proves nothing")
	}

	// A file nothing lists.
	bad, _ = copyCompose(t, d)
	extra := filepath.Join(bad, "repos", "BaseOS", "x86_64", "Packages", "e", "extra.rpm")
	os.MkdirAll(filepath.Dir(extra), 0o755)
	os.WriteFile(extra, []byte("not listed"), 0o644)
	refused(t, d, []string{extra + ": not covered by any signature: manifest.json does not list it"}, 1, "verify", bad, "--key", pub)

	// Symlinks pointing outside (one where a listed provenance envelope
	// was, to an identical copy of it) and a FIFO: reported, never
	// followed or opened.
	bad, base = copyCompose(t, d)
	envs, _ := filepath.Glob(filepath.Join(bad, "provenance", "*.intoto.json"))
	secret := filepath.Join(base, "secret.json")
	env, _ := os.ReadFile(envs[0])
	os.WriteFile(secret, env, 0o644)
	opened = watchOpens(t, secret)
	os.Remove(envs[0])
	os.Symlink(secret, envs[0])
	planted := filepath.Join(bad, "repos", "BaseOS", "x86_64", "repodata", "extra.xml")
	os.Symlink("/etc/passwd", planted)
	fifo := filepath.Join(bad, "keys", "fifo")
	syscall.Mkfifo(fifo, 0o644)
	refused(t, d, []string{
		envs[0] + ": a symlink to " + secret + ": not followed; a compose holds only regular files and folders",
		planted + ": a symlink to /etc/passwd: not followed",
		fifo + ": a FIFO: not followed",
	}, 1, "verify", bad, "--key", pub)
	if opened() {
		t.Errorf("verify followed the symlink to %s", secret)
	}

	// A tree whose keys were replaced and everything signed again with an
	// attacker's key, by a real publish: self-consistent, so it verifies
	// with the attacker's key; with the real one it fails, naming the key
	// that signed.
	evil := filepath.Join(t.TempDir(), "state")
	if out, err := exec.Command("cp", "-a", d.state, evil).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	attacker := func(args ...string) string {
		cmd := exec.Command(quarryBin, append([]string{"--config", d.config(), "--state", evil}, args...)...)
		cmd.Dir = d.dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("quarry %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	attacker("key", "init", "--force", "--bits", "2048")
	attacker("key", "init", "--force", "--bits", "2048", "--sig", "hello")
	evilOut := filepath.Join(t.TempDir(), "out")
	attacker("build", "--no-import", "--out", evilOut) // the release packages carry the key: they build again
	evilKey, err := sign.Load(filepath.Join(evil, "keys", "core.key"), "")
	if err != nil {
		t.Fatal(err)
	}
	evilPub := filepath.Join(evil, "keys", "RPM-GPG-KEY-pebble")
	evilCur := filepath.Join(evilOut, "current")
	evilReal, _ := filepath.EvalSymlinks(evilCur)
	d.mustRun("verify", evilCur, "--key", evilPub)
	refused(t, d, []string{evilReal + "/manifest.json.asc: signed by key " + evilKey.Fingerprint() + " (Pebble Linux <", "which is not a trusted key; nothing else was checked (trusted: " + fpr}, 1,
		"verify", evilCur, "--key", pub)
	refused(t, d, []string{"no trusted key: no key in " + evilReal + "/keys has the pinned fingerprint " + fpr}, 2, "verify", evilCur, "--fingerprint", fpr)
	refused(t, d, []string{evilCur + "/sigs.json.asc: signed by key " + evilKey.Fingerprint(), "which is not a trusted key"}, 1,
		"sig", "enable", "hello", "--from", evilCur, "--root", root, "--key", pub)

	// The index signed, but the SIG key beside it swapped: sig enable
	// refuses to install it.
	bad, _ = copyCompose(t, d)
	swapped, _ := os.ReadFile(filepath.Join(evil, "keys", "RPM-GPG-KEY-pebble-sig-hello"))
	replace(t, filepath.Join(bad, "keys", "RPM-GPG-KEY-pebble-sig-hello"), swapped)
	refused(t, d, []string{bad + "/keys/RPM-GPG-KEY-pebble-sig-hello: sha256 differs from the signed sigs.json (SIG hello's key); nothing written"}, 1,
		"sig", "enable", "hello", "--from", bad, "--root", root, "--key", pub)
	refused(t, d, []string{bad + "/keys/RPM-GPG-KEY-pebble-sig-hello: not the key sigs.json names for SIG hello"}, 1, "verify", bad, "--key", pub)
	if files := treeDigests(t, root); len(files) != 0 {
		t.Errorf("sig enable of a swapped key wrote %v", files)
	}

	before.same(t, d, "the attacks")
}
