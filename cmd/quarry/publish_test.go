package main_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/provenance"
	"github.com/quarrylinux/quarry/core/sign"
)

type manifest struct {
	Key       string `json:"key_fingerprint"`
	Artifacts []struct {
		File       string   `json:"file"`
		Name       string   `json:"name"`
		Arch       string   `json:"arch"`
		Signed     string   `json:"signed_sha256"`
		Paths      []string `json:"paths"`
		Provenance string   `json:"provenance"`
	} `json:"artifacts"`
}

func (d *distro) out() string { return filepath.Join(d.dir, "out") }

func (d *distro) currentID() string {
	d.t.Helper()
	target, err := os.Readlink(filepath.Join(d.out(), "current"))
	if err != nil {
		d.t.Fatal(err)
	}
	return filepath.Base(target)
}

// dnfInstall installs pkgs with the real dnf into a fresh installroot from
// the published x86_64 core repositories, checking package and repomd
// signatures, and returns what is installed or dnf's error output.
func (d *distro) dnfInstall(pkgs ...string) (string, error) {
	d.t.Helper()
	cur := filepath.Join(d.out(), "current")
	repos := map[string]string{}
	for _, r := range []string{"BaseOS", "AppStream", "CRB"} {
		repos[r] = filepath.Join(cur, "repos", r, "x86_64")
	}
	return d.dnfInstallFrom(repos, "RPM-GPG-KEY-pebble", pkgs...)
}

// dnfInstallFrom installs pkgs from the given repositories (name → folder),
// with gpgcheck and repo_gpgcheck against the published key keyName.
func (d *distro) dnfInstallFrom(repoDirs map[string]string, keyName string, pkgs ...string) (string, error) {
	d.t.Helper()
	return d.dnfInstallInto(filepath.Join(d.t.TempDir(), "root"), repoDirs, keyName, pkgs...)
}

// dnfInstallInto is dnfInstallFrom into the given root.
func (d *distro) dnfInstallInto(root string, repoDirs map[string]string, keyName string, pkgs ...string) (string, error) {
	d.t.Helper()
	dir := d.t.TempDir()
	cur := filepath.Join(d.out(), "current")
	var repos strings.Builder
	for name, path := range repoDirs {
		repos.WriteString("[t-" + name + "]\nname=" + name + "\nbaseurl=file://" + path +
			"\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file://" + filepath.Join(cur, "keys", keyName) + "\nenabled=1\n\n")
	}
	os.MkdirAll(filepath.Join(dir, "repos.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "repos.d", "t.repo"), []byte(repos.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "dnf.conf"), []byte("[main]\ncachedir="+filepath.Join(dir, "cache")+"\n"), 0o644)
	args := append([]string{"-y", "--config", filepath.Join(dir, "dnf.conf"), "--installroot", root, "--releasever", "9",
		"--setopt=reposdir=" + filepath.Join(dir, "repos.d"), "install"}, pkgs...)
	if out, err := exec.Command("dnf", args...).CombinedOutput(); err != nil {
		return string(out), err
	}
	out, err := exec.Command("rpm", "--root", root, "-qa", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}\n").Output()
	lines := strings.Fields(string(out))
	sort.Strings(lines)
	return strings.Join(lines, " "), err
}

// TestPublishExample builds the example for two arches and publishes it,
// then checks it the way users will: real dnf with gpgcheck and
// repo_gpgcheck, real rpmkeys; then a one-package update, a rollback and
// bad input that must leave the publication alone.
func TestPublishExample(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.editConfig("arches: [x86_64, aarch64, ppc64le, s390x]", "arches: [x86_64, aarch64]")
	d.keyInit()
	d.mustRun("build")

	first := d.currentID()
	cur := filepath.Join(d.out(), "current")
	var m manifest
	data, err := os.ReadFile(filepath.Join(cur, "manifest.json"))
	if err != nil || json.Unmarshal(data, &m) != nil {
		t.Fatalf("manifest: %v", err)
	}
	var files []string
	for _, a := range m.Artifacts {
		switch {
		case a.Arch == "noarch" && len(a.Paths) != 2:
			t.Errorf("noarch %s is in %v, want both arch repositories", a.File, a.Paths)
		case a.Arch == "src" && (len(a.Paths) != 1 || !strings.HasPrefix(a.Paths[0], "repos/source/")):
			t.Errorf("source %s is in %v", a.File, a.Paths)
		}
		for _, p := range a.Paths {
			files = append(files, filepath.Join(cur, p))
		}
	}
	if len(m.Artifacts) < 40 {
		t.Fatalf("the manifest lists %d artifacts", len(m.Artifacts))
	}
	pub, _ := os.ReadFile(filepath.Join(cur, "keys", "RPM-GPG-KEY-pebble"))
	bad, err := sign.RPMKeysCheck(pub, files)
	if err != nil || len(bad) > 0 {
		t.Fatalf("rpmkeys --checksig: %v\n%s", err, strings.Join(bad, "\n"))
	}

	checkProvenance(t, d, cur, m)

	// Every job rebuilds to the same bytes.
	stdout := d.mustRun("build", "--no-import", "--no-publish", "--check-reproducible")
	if !strings.Contains(stdout, "(100.0%)") || !strings.HasPrefix(lastLine(stdout), "reproducible: ") {
		t.Errorf("check reproducible: %s", lastLine(stdout))
	}

	// The release package carries the .repo file pointing here, and the key.
	rel := filepath.Join(cur, "repos", "BaseOS", "x86_64", "Packages", "p", "pebble-release-9.4-1.pbl9.noarch.rpm")
	out, err := rpmFile(rel, "/etc/yum.repos.d/pebble.repo")
	if err != nil || !strings.Contains(string(out), "baseurl=file://"+cur+"/repos/BaseOS/$basearch/") || !strings.Contains(string(out), "[pebble-crb]") ||
		!strings.Contains(string(out), "[pebble-sig-release]\nname=Pebble Linux $releasever - SIG release packages\nbaseurl=file://"+cur+"/sig/release/$basearch/\nenabled=1") {
		t.Errorf("pebble.repo in pebble-release: %v\n%s", err, out)
	}

	// dnf resolves across BaseOS, AppStream and CRB, weak dependencies
	// included, with every signature checked.
	installed, err := d.dnfInstall("pebble-release", "testsuite-data")
	if err != nil {
		t.Fatalf("dnf install: %v\n%s", err, installed)
	}
	for _, want := range []string{"pebble-release-9.4", "pebble-logos-90.0", "testsuite-data-1.0", "fortune-mini-0.5-1", "tzinfo-mini", "docs-bundle"} {
		if !strings.Contains(installed, want) {
			t.Errorf("installed %s; want %s", installed, want)
		}
	}

	// The comps group from the config: mandatory and default packages, not
	// the optional one.
	installed, err = d.dnfInstall("@core")
	if err != nil {
		t.Fatalf("dnf install @core: %v\n%s", err, installed)
	}
	for _, want := range []string{"pebble-release-9.4", "pebble-logos-90.0", "tzinfo-mini-"} {
		if !strings.Contains(installed, want) {
			t.Errorf("@core installed %s; want %s", installed, want)
		}
	}
	if strings.Contains(installed, "shell-helpers") {
		t.Errorf("@core installed the optional shell-helpers: %s", installed)
	}

	// One changed package: a new compose in which only the repositories
	// holding it were rewritten, installable at once.
	d.bump("fortune-mini")
	stdout = d.mustRun("build")
	if !strings.Contains(stdout, "(2 newly signed, 3 repodata rewritten)") {
		t.Errorf("after one noarch update: %s", lastLine(stdout))
	}
	second := d.currentID()
	if second == first {
		t.Fatal("no new compose")
	}
	if installed, err := d.dnfInstall("fortune-mini"); err != nil || !strings.Contains(installed, "fortune-mini-0.5-2") {
		t.Errorf("after the update dnf installs %s (%v)", installed, err)
	}

	// Rollback goes back one compose.
	d.mustRun("publish", "--rollback")
	if id := d.currentID(); id != first {
		t.Errorf("after rollback current is %s, want %s", id, first)
	}
	if installed, err := d.dnfInstall("fortune-mini"); err != nil || !strings.Contains(installed, "fortune-mini-0.5-1") {
		t.Errorf("after the rollback dnf installs %s (%v)", installed, err)
	}

	// A repomd.xml.asc that does not match stops dnf (repo_gpgcheck works).
	asc := filepath.Join(cur, "repos", "BaseOS", "x86_64", "repodata", "repomd.xml.asc")
	good, _ := os.ReadFile(asc)
	other, _ := os.ReadFile(filepath.Join(cur, "repos", "AppStream", "x86_64", "repodata", "repomd.xml.asc"))
	os.Remove(asc) // a hard link into the cache: replace, never write through
	os.WriteFile(asc, other, 0o644)
	if _, err := d.dnfInstall("pebble-release"); err == nil {
		t.Error("dnf accepted a repository whose repomd.xml.asc does not match")
	}
	os.Remove(asc)
	os.WriteFile(asc, good, 0o644)

	// kill -9 in the middle of signing leaves a publication that installs
	// and verifies, and a draft the next run throws away.
	d.bump("docs-bundle")
	d.mustRun("build", "--no-publish")
	killPublish(t, d, "signing")
	if _, err := d.dnfInstall("fortune-mini"); err != nil {
		t.Errorf("after kill -9 the current publication does not install: %v", err)
	}
	if problems := verify(t, d); len(problems) > 0 {
		t.Errorf("after kill -9 the current publication does not verify: %v", problems)
	}
	d.mustRun("publish") // current is the newest again
	if drafts, _ := filepath.Glob(filepath.Join(d.out(), "composes", ".draft-*")); len(drafts) > 0 {
		t.Errorf("drafts survived the next publish: %v", drafts)
	}

	// Bad input leaves the current publication alone: a missing or wrong
	// signing key, a group naming an unknown package, a corrupt RPM among
	// the outputs.
	before := d.currentID()
	junk := filepath.Join(d.dir, "junk.key")
	os.WriteFile(junk, []byte("not a key"), 0o600)
	raw, _ := os.ReadFile(d.config())
	d.writeConfig(string(raw) + "\nsigning:\n  key: junk.key\n")
	_, stderr, code := d.run("publish")
	if code == 0 || !strings.Contains(stderr, junk) {
		t.Errorf("publish with a junk key: exit %d\n%s", code, stderr)
	}
	d.writeConfig(string(raw))
	d.writeConfig(string(raw) + "\nsigning:\n  key: /etc/pki/quarry-core.key\n")
	_, stderr, code = d.run("publish")
	if code == 0 || !strings.Contains(stderr, "/etc/pki/quarry-core.key: build jobs can read this folder") {
		t.Errorf("publish with a key under /etc: exit %d\n%s", code, stderr)
	}
	d.writeConfig(string(raw))
	keyFile := filepath.Join(d.state, "keys", "core.key")
	os.Rename(keyFile, keyFile+".away")
	_, stderr, code = d.run("publish")
	if code == 0 || !strings.Contains(stderr, "no signing key: run quarry key init") {
		t.Errorf("publish without a key: exit %d\n%s", code, stderr)
	}
	os.Rename(keyFile+".away", keyFile)
	d.editConfig("default: [tzinfo-mini]", "default: [tzinfo-mini, no-such-package]")
	_, stderr, code = d.run("publish")
	if code == 0 || !strings.Contains(stderr, "group core of BaseOS lists no-such-package, which no core package builds") {
		t.Errorf("publish with a group naming an unknown package: exit %d\n%s", code, stderr)
	}
	d.writeConfig(string(raw))

	nvr := d.bump("wordfreq")
	d.mustRun("build", "--no-publish")
	var corrupt string
	recs, _ := filepath.Glob(filepath.Join(d.state, "build", "latest", "wordfreq@x86_64.json"))
	if len(recs) == 1 {
		var rec struct {
			Outputs []struct{ File, SHA256 string }
		}
		data, _ := os.ReadFile(recs[0])
		json.Unmarshal(data, &rec)
		blob := filepath.Join(d.state, "store", "blobs", "sha256", rec.Outputs[0].SHA256[:2], rec.Outputs[0].SHA256)
		os.Chmod(blob, 0o644)
		b, _ := os.ReadFile(blob)
		os.WriteFile(blob, b[:len(b)/2], 0o644)
		corrupt = rec.Outputs[0].File
	}
	_, stderr, code = d.run("publish")
	if code == 0 || corrupt == "" || !strings.Contains(stderr, corrupt) {
		t.Errorf("publish of a corrupt %s (%s): exit %d\n%s", corrupt, nvr, code, stderr)
	}
	if id := d.currentID(); id != before {
		t.Errorf("a failed publish moved current from %s to %s", before, id)
	}
	if installed, err := d.dnfInstall("fortune-mini"); err != nil || !strings.Contains(installed, "fortune-mini-0.5-2") {
		t.Errorf("after failed publishes dnf installs %s (%v)", installed, err)
	}
	if problems := verify(t, d); len(problems) > 0 {
		t.Errorf("the current publication does not verify: %v", problems)
	}
}

// checkProvenance: every artifact names a signed statement of the job
// that built it, carrying the upstream commit from quarry.lock and the
// buildroot; quarry verify refuses a compose whose provenance was swapped.
func checkProvenance(t *testing.T, d *distro, cur string, m manifest) {
	t.Helper()
	pub, _ := os.ReadFile(filepath.Join(cur, "keys", "RPM-GPG-KEY-pebble"))
	ring, err := sign.Keyring(pub)
	if err != nil {
		t.Fatal(err)
	}
	var lk lock.Lock
	data, _ := os.ReadFile(filepath.Join(d.state, "quarry.lock"))
	if err := json.Unmarshal(data, &lk); err != nil {
		t.Fatal(err)
	}
	for _, a := range m.Artifacts {
		if a.Provenance == "" {
			t.Fatalf("%s has no provenance", a.File)
		}
		env, _ := os.ReadFile(filepath.Join(cur, a.Provenance))
		st, err := provenance.Open(ring, env)
		if err != nil {
			t.Fatalf("%s: %v", a.Provenance, err)
		}
		if !st.Has(a.File, a.Signed) {
			t.Errorf("%s does not name %s", a.Provenance, a.File)
		}
		if a.Name != "greet" || a.Arch != "x86_64" {
			continue
		}
		deps := map[string]map[string]string{}
		for _, r := range st.Predicate.BuildDefinition.ResolvedDependencies {
			deps[strings.SplitN(r.Name, ":", 2)[0]] = r.Digest
		}
		if want := lk.Packages["greet"].Upstream.Commit; want == "" || deps["upstream"]["gitCommit"] != want {
			t.Errorf("greet's provenance names upstream %v, the lock %s", deps["upstream"], want)
		}
		if deps["buildroot"] == nil || deps["srpm"] == nil || deps["source"] == nil {
			t.Errorf("greet's provenance lacks buildroot, srpm or sources: %v", deps)
		}
	}

	// A copy of the compose with one statement swapped for another.
	bad := filepath.Join(t.TempDir(), "compose")
	if out, err := exec.Command("cp", "-a", cur+"/", bad).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	swapped := filepath.Join(bad, m.Artifacts[0].Provenance)
	other := ""
	for _, a := range m.Artifacts {
		if a.Provenance != m.Artifacts[0].Provenance {
			other = filepath.Join(bad, a.Provenance)
			break
		}
	}
	os.Remove(swapped)
	data, _ = os.ReadFile(other)
	os.WriteFile(swapped, data, 0o644)
	stdout, _, code := d.run("verify", bad, "--key", d.pubKey())
	if code == 0 || !strings.Contains(stdout, m.Artifacts[0].File+": not a subject of "+swapped) {
		t.Errorf("verify of swapped provenance: exit %d\n%s", code, stdout)
	}
}

// killPublish starts quarry publish and kills it (SIGKILL) as soon as it
// logs a line containing event.
func killPublish(t *testing.T, d *distro, event string) {
	t.Helper()
	cmd := d.command("--log-level", "debug", "publish")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen []string
	sc := bufio.NewScanner(stderr)
	killed := false
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if !killed && strings.Contains(sc.Text(), event) {
			cmd.Process.Kill()
			killed = true
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatalf("publish never logged %q:\n%s", event, strings.Join(seen, "\n"))
	}
	drafts, _ := filepath.Glob(filepath.Join(d.out(), "composes", ".draft-*"))
	t.Logf("killed publish at %q; drafts left: %v", event, drafts)
}

// rpmFile reads one file out of an RPM with the real rpm2cpio and cpio.
func rpmFile(rpm, path string) ([]byte, error) {
	return exec.Command("sh", "-c", "rpm2cpio '"+rpm+"' | cpio -i --quiet --to-stdout '."+path+"'").Output()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// pubKey is the core's public key, as quarry key init wrote it beside
// the private key: the key a publisher's users are given to trust.
func (d *distro) pubKey() string { return filepath.Join(d.state, "keys", "RPM-GPG-KEY-pebble") }

// verify runs quarry verify on the current publication, trusting the
// core's public key from the state folder.
func verify(t *testing.T, d *distro) []string {
	t.Helper()
	stdout, _, code := d.run("verify", filepath.Join(d.out(), "current"), "--key", d.pubKey())
	if code != 0 {
		return strings.Split(strings.TrimSpace(stdout), "\n")
	}
	return nil
}
