package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// TestSIGsLeaveTheCoreAlone: a build with SIGs leaves every core
// repository byte-identical to the build without; a good SIG's package is
// built by the core, signed with the SIG's key into sig/<sig>/ and
// installable with gpgcheck; hostile SIGs fail with their rule named and
// the rest is published.
func TestSIGsLeaveTheCoreAlone(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.editConfig("arches: [x86_64, aarch64, ppc64le, s390x]", "arches: [x86_64]")
	d.keyInit()
	d.mustRun("build")
	core := treeDigests(t, filepath.Join(d.out(), "current", "repos"))

	bin := filepath.Join(d.dir, "bin")
	// One go build for the eight.
	sigs := map[string]string{"hello": "./examples/hello-sig", "kernel": "./sigs/kernel", "hpc": "./sigs/hpc", "cloud": "./sigs/cloud"}
	for _, h := range []string{"shadow", "obsoletes", "dotdot", "crash"} {
		sigs[h] = "./testing/plugins/" + h
	}
	if err := fixtures.BuildPlugins(bin, sigs); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(d.config())
	d.writeConfig(string(raw) + `
sigs:
  - name: hello
    config:
      greeting: Hello from a test
  - name: kernel
    config:
      flavours: [{name: mainline}, {name: lts}]
  - name: hpc
    config:
      mpi: {variants: [ompi, mpich]}
      scheduler: {versions: ["22.05.11", "23.02.7"]}
  - name: cloud
  - name: shadow
  - name: obsoletes
  - name: dotdot
  - name: crash
`)
	d.mustRun("plugin", "lock")
	d.mustRun("key", "init", "--bits", "2048", "--sig", "hello")
	d.mustRun("key", "init", "--bits", "2048", "--sig", "kernel")
	d.mustRun("key", "init", "--bits", "2048", "--sig", "hpc")
	d.mustRun("key", "init", "--bits", "2048", "--sig", "cloud")
	stdout, stderr, code := d.run("build", "--no-import")
	if code == 0 {
		t.Fatalf("a build with hostile SIGs exited 0\n%s", stderr)
	}
	for _, want := range []string{
		"sig shadow: package kernel: no-core-name: kernel is a core package",
		"sig obsoletes: package greet-ng: no-core-obsoletes: Obsoletes: kernel < 99, a core package",
		`sig dotdot: package dotdot-tool: relative-paths: file "../../../etc/cron.d/evil": climbs out of the package (..)`,
		"quarry: 4 SIGs failed; the core and the other SIGs are published",
		// (hello and kernel are not among them)
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "published compose") {
		t.Fatalf("nothing published:\n%s\n%s", stdout, stderr)
	}
	cur := filepath.Join(d.out(), "current")
	after := treeDigests(t, filepath.Join(cur, "repos"))
	if len(after) != len(core) {
		t.Errorf("the core repositories hold %d files with SIGs, %d without", len(after), len(core))
	}
	for f, sum := range core {
		if after[f] != sum {
			t.Errorf("%s changed when SIGs were enabled", f)
		}
	}

	// The good SIG's package: signed with the SIG's key, which is what its
	// repository and keys/ carry; installable with gpgcheck and
	// repo_gpgcheck.
	rpms, _ := filepath.Glob(filepath.Join(cur, "sig", "hello", "extras", "x86_64", "Packages", "h", "hello-sig-motd-1.0-1.pbl9.noarch.rpm"))
	if len(rpms) != 1 {
		t.Fatalf("no hello-sig-motd in sig/hello/extras/x86_64")
	}
	sigKey, _ := os.ReadFile(filepath.Join(cur, "keys", "RPM-GPG-KEY-pebble-sig-hello"))
	if bad, err := sign.RPMKeysCheck(sigKey, rpms); err != nil || len(bad) > 0 {
		t.Errorf("the SIG package does not verify with the SIG key: %v %v", bad, err)
	}
	coreKey, _ := os.ReadFile(filepath.Join(cur, "keys", "RPM-GPG-KEY-pebble"))
	if bad, _ := sign.RPMKeysCheck(coreKey, rpms); len(bad) == 0 {
		t.Error("the SIG package verifies with the core key")
	}
	if problems := verify(t, d); len(problems) > 0 {
		t.Errorf("quarry verify: %v", problems)
	}
	installed, err := d.dnfInstallFrom(map[string]string{"hello": filepath.Join(cur, "sig", "hello", "extras", "x86_64")}, "RPM-GPG-KEY-pebble-sig-hello", "hello-sig-motd")
	if err != nil || !strings.Contains(installed, "hello-sig-motd-1.0-1") {
		t.Errorf("dnf install hello-sig-motd: %v\n%s", err, installed)
	}

	// The kernel SIG's flavours: renamed package sets, each in its own
	// repository, installable (installonly) with the SIG's key.
	installed, err = d.dnfInstallFrom(map[string]string{"mainline": filepath.Join(cur, "sig", "kernel", "mainline", "x86_64"),
		"lts": filepath.Join(cur, "sig", "kernel", "lts", "x86_64")}, "RPM-GPG-KEY-pebble-sig-kernel", "kernel-mainline", "kernel-lts-devel")
	for _, want := range []string{"kernel-mainline-6.12.1-1.pbl9", "kernel-mainline-core-6.12.1", "kernel-mainline-modules-6.12.1", "kernel-lts-devel-6.6.63"} {
		if err != nil || !strings.Contains(installed, want) {
			t.Errorf("dnf install kernel-mainline kernel-lts-devel: want %s: %v\n%s", want, err, installed)
		}
	}

	// The HPC SIG's matrix installs side by side: two MPI variants (real C,
	// built for the arch), two scheduler majors, their modulefiles.
	installed, err = d.dnfInstallFrom(map[string]string{"stacks": filepath.Join(cur, "sig", "hpc", "stacks", "x86_64")}, "RPM-GPG-KEY-pebble-sig-hpc",
		"minimpi-ompi", "minimpi-mpich", "slurmish22", "slurmish23")
	for _, want := range []string{"minimpi-ompi-1.2-1", "minimpi-mpich-1.2-1", "slurmish22-22.05.11-1", "slurmish23-23.02.7-1", "hpc-modulefiles-1.0-1"} {
		if err != nil || !strings.Contains(installed, want) {
			t.Errorf("dnf install the HPC matrix: want %s: %v\n%s", want, err, installed)
		}
	}

	// The core built pebble-release-hello (release from the plugin's
	// version), signed with the core key, in sig/release: it carries the
	// SIG's .repo file and key. Hostile SIGs got none.
	rel := filepath.Join(cur, "sig", "release", "x86_64", "Packages", "p", "pebble-release-hello-9.4-1.0.0.pbl9.noarch.rpm")
	if bad, err := sign.RPMKeysCheck(coreKey, []string{rel}); err != nil || len(bad) > 0 {
		t.Fatalf("pebble-release-hello with the core key: %v %v", bad, err)
	}
	installed, err = d.dnfInstallFrom(map[string]string{"sig-release": filepath.Join(cur, "sig", "release", "x86_64")}, "RPM-GPG-KEY-pebble", "pebble-release-hello")
	if err != nil || !strings.Contains(installed, "pebble-release-hello-9.4-1.0.0") {
		t.Errorf("dnf install pebble-release-hello: %v\n%s", err, installed)
	}
	out, err := rpmFile(rel, "/etc/yum.repos.d/pebble-sig-hello.repo")
	if err != nil || !strings.Contains(string(out), "[pebble-sig-hello-extras]") || !strings.Contains(string(out), "baseurl=file://"+cur+"/sig/hello/extras/$basearch/") ||
		!strings.Contains(string(out), "gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-pebble-sig-hello") {
		t.Errorf("pebble-sig-hello.repo: %v\n%s", err, out)
	}
	if others, _ := filepath.Glob(filepath.Join(cur, "sig", "release", "x86_64", "Packages", "p", "pebble-release-*.rpm")); len(others) != 4 {
		t.Errorf("sig/release holds %v", others)
	}

	checkOptIn(t, d, cur)
	checkCloudImages(t, d, cur)
}

// withoutRPMDBScratch drops an rpm sqlite database's -shm and -wal files,
// which any query of it may write.
func withoutRPMDBScratch(files map[string]string) map[string]string {
	for f := range files {
		if strings.HasSuffix(f, ".sqlite-shm") || strings.HasSuffix(f, ".sqlite-wal") {
			delete(files, f)
		}
	}
	return files
}

// checkReleasePackageStays: on a machine with pebble-release-hello
// installed, and no quarry.yaml, sig list and disable find the
// publication from the machine's pebble.repo; disable switches the SIG's
// repositories off in place, removing nothing the package owns (rpm -V
// reports nothing missing), and enable switches them back on, so that the
// file holds the package's bytes again.
func checkReleasePackageStays(t *testing.T, d *distro, cur string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	if out, err := d.dnfInstallInto(root, map[string]string{"base": filepath.Join(cur, "repos", "BaseOS", "x86_64"), "sig-release": filepath.Join(cur, "sig", "release", "x86_64")},
		"RPM-GPG-KEY-pebble", "pebble-release", "pebble-release-hello"); err != nil {
		t.Fatalf("dnf install pebble-release pebble-release-hello: %v\n%s", err, out)
	}
	away := t.TempDir() // no quarry.yaml here
	sig := func(args ...string) (string, string, int) {
		cmd := exec.Command(quarryBin, append([]string{"sig"}, append(args, "--root", root, "--key", d.pubKey())...)...)
		cmd.Dir = away
		return runCmd(t, cmd)
	}
	verify := func() string {
		out, _ := exec.Command("rpm", "--root", root, "-V", "pebble-release-hello").CombinedOutput()
		return string(out)
	}
	repoFile := filepath.Join(root, "etc", "yum.repos.d", "pebble-sig-hello.repo")
	keyFile := filepath.Join(root, "etc", "pki", "rpm-gpg", "RPM-GPG-KEY-pebble-sig-hello")
	if out, stderr, code := sig("list"); code != 0 || !strings.Contains(out, "enabled   repos: extras:on") {
		t.Fatalf("sig list off the machine's pebble.repo: exit %d\n%s\n%s", code, out, stderr)
	}
	out, stderr, code := sig("disable", "hello")
	if code != 0 || !strings.Contains(out, "in place") || !strings.Contains(out, "dnf remove pebble-release-hello") {
		t.Fatalf("sig disable with the release package installed: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, f := range []string{repoFile, keyFile} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("sig disable removed %s, which pebble-release-hello owns", f)
		}
	}
	if v := verify(); strings.Contains(v, "missing") {
		t.Errorf("rpm -V pebble-release-hello after sig disable:\n%s", v)
	}
	if out, _, _ := sig("list"); !strings.Contains(out, "disabled  repos: extras:off") {
		t.Errorf("sig list after disable:\n%s", out)
	}
	if out, stderr, code := sig("enable", "hello"); code != 0 || !strings.Contains(out, "in place") {
		t.Errorf("sig enable with the release package installed: exit %d\n%s\n%s", code, out, stderr)
	}
	if v := verify(); strings.ContainsAny(strings.Fields(v + " x")[0], "S5") || strings.Contains(v, "missing") {
		t.Errorf("rpm -V pebble-release-hello after sig enable: the package's bytes again, want; got\n%s", v)
	}
}

// checkCloudImages: the cloud SIG's kickstarts and its image, built with
// dnf from the composed repositories (gpgcheck on) inside the plugin's
// sandbox, as an OCI archive skopeo reads, with its package list in the
// manifest; a kickstart naming a package that does not exist fails the
// SIG before anything is built.
func checkCloudImages(t *testing.T, d *distro, cur string) {
	t.Helper()
	var m struct {
		Images []struct {
			SIG, Installer, Kind, Path, SHA256 string
			Packages                           []string
		} `json:"images"`
	}
	data, _ := os.ReadFile(filepath.Join(cur, "manifest.json"))
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	byName := map[string][]string{}
	for _, img := range m.Images {
		byName[filepath.Base(img.Path)] = img.Packages
	}
	for _, f := range []string{"pebble-cloud-generic.ks", "pebble-cloud-ec2.ks", "pebble-cloud-gce.ks", "pebble-cloud.oci.tar", "pebble-cloud-rootfs.tar.gz"} {
		if _, ok := byName[f]; !ok {
			t.Errorf("the manifest lists no image %s: %v", f, byName)
		}
	}
	pkgs := strings.Join(byName["pebble-cloud.oci.tar"], " ")
	if !strings.Contains(pkgs, "cloud-init-lite-1.0-1.pbl9.noarch") || !strings.Contains(pkgs, "pebble-release-9.4-1.pbl9.noarch") {
		t.Errorf("the image's packages: %s", pkgs)
	}
	out, err := exec.Command("skopeo", "inspect", "oci-archive:"+filepath.Join(cur, "images", "cloud", "pebble-cloud.oci.tar")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"Architecture": "amd64"`) {
		t.Errorf("skopeo inspect: %v\n%s", err, out)
	}
	out, err = exec.Command("tar", "-tzf", filepath.Join(cur, "images", "cloud", "pebble-cloud-rootfs.tar.gz")).Output()
	if err != nil || !strings.Contains(string(out), "etc/cloud/cloud.cfg") || !strings.Contains(string(out), "etc/yum.repos.d/pebble.repo") {
		t.Errorf("the rootfs tarball: %v\n%s", err, out)
	}
	ks, _ := os.ReadFile(filepath.Join(cur, "images", "cloud", "pebble-cloud-ec2.ks"))
	if !strings.Contains(string(ks), "%packages\npebble-release\ncloud-init-lite\n%end") {
		t.Errorf("the ec2 kickstart:\n%s", ks)
	}

	// A package that does not exist: caught before the image build.
	raw, _ := os.ReadFile(d.config())
	d.writeConfig(strings.Replace(string(raw), "  - name: cloud\n", "  - name: cloud\n    config:\n      image: {packages: [pebble-release, no-such-package]}\n", 1))
	// (A SIG's config is the build's: publish refuses what was built
	// with another one.)
	if _, stderr, code := d.run("publish"); code == 0 || !strings.Contains(stderr, "changed since the last build") {
		t.Errorf("publish after the SIG's config changed: exit %d\n%s", code, stderr)
	}
	_, stderr, code := d.run("build", "--no-import")
	if code == 0 || !strings.Contains(stderr, "sig cloud: installer pebble-cloud-generic: package no-such-package is in none of its repositories (BaseOS, AppStream, cloud); nothing was built") {
		t.Errorf("a kickstart with a missing package: exit %d\n%s", code, stderr)
	}
	d.writeConfig(string(raw))
	if problems := verify(t, d); len(problems) > 0 {
		t.Errorf("after the failed cloud SIG: %v", problems)
	}
}

// checkOptIn: quarry sig enable and the release package write the same
// .repo file; dnf finds the SIG's kernel only once it is enabled, and
// after disable only the two files are gone.
func checkOptIn(t *testing.T, d *distro, cur string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc", "machine-id"), []byte("test\n"), 0o644)
	list := d.mustRun("sig", "list", "--from", cur, "--root", root, "--key", d.pubKey())
	if !strings.Contains(list, "kernel     1.0.0    disabled  repos: mainline:off lts:off") || !strings.Contains(list, "hello") || strings.Contains(list, "shadow") {
		t.Errorf("sig list:\n%s", list)
	}
	// dnf reads the machine's .repo files under --root, but a file:// gpgkey
	// on the host, not under --installroot: point it at the key sig enable
	// wrote under the root.
	key := "file://" + filepath.Join(root, "etc", "pki", "rpm-gpg", "RPM-GPG-KEY-pebble-sig-kernel")
	dnf := func(pkgs ...string) (string, error) {
		args := append([]string{"-y", "--installroot", root, "--releasever", "9", "--setopt=reposdir=" + filepath.Join(root, "etc", "yum.repos.d"),
			"--setopt=cachedir=" + filepath.Join(root, "var", "cache", "dnf"),
			"--setopt=pebble-sig-kernel-mainline.gpgkey=" + key, "--setopt=pebble-sig-kernel-lts.gpgkey=" + key, "install"}, pkgs...)
		out, err := exec.Command("dnf", args...).CombinedOutput()
		return string(out), err
	}
	os.MkdirAll(filepath.Join(root, "etc", "yum.repos.d"), 0o755)
	if out, err := dnf("kernel-mainline"); err == nil {
		t.Errorf("dnf installed kernel-mainline before the SIG was enabled:\n%s", out)
	}
	before := treeDigests(t, root)
	out := d.mustRun("sig", "enable", "kernel", "--from", cur, "--root", root, "--key", d.pubKey())
	if !strings.Contains(out, "enabled SIG kernel") {
		t.Errorf("sig enable: %s", out)
	}
	written, _ := os.ReadFile(filepath.Join(root, "etc", "yum.repos.d", "pebble-sig-kernel.repo"))
	rel := filepath.Join(cur, "sig", "release", "x86_64", "Packages", "p", "pebble-release-kernel-9.4-1.0.0.pbl9.noarch.rpm")
	carried, err := rpmFile(rel, "/etc/yum.repos.d/pebble-sig-kernel.repo")
	if err != nil || string(carried) != string(written) {
		t.Errorf("sig enable and pebble-release-kernel disagree:\n%s\n---\n%s", written, carried)
	}
	if out, err := dnf("kernel-mainline"); err != nil {
		t.Errorf("dnf install kernel-mainline after sig enable: %v\n%s", err, out)
	}
	if _, _, code := d.run("sig", "enable", "nosuch", "--from", cur, "--root", root, "--key", d.pubKey()); code == 0 {
		t.Error("enabled an unknown SIG")
	}
	_, stderr, code := d.run("sig", "enable", "kernel", "rt", "--from", cur, "--root", root, "--key", d.pubKey())
	if code == 0 || !strings.Contains(stderr, `SIG kernel has no repository "rt" (it has mainline, lts)`) {
		t.Errorf("unknown repo: exit %d %s", code, stderr)
	}

	// disable takes away the two files and nothing else. (It asks the
	// root's rpm database who owns them, which touches the sqlite
	// database's shared-memory file.)
	enabled := withoutRPMDBScratch(treeDigests(t, root))
	d.mustRun("sig", "disable", "kernel", "--from", cur, "--root", root, "--key", d.pubKey())
	disabled := withoutRPMDBScratch(treeDigests(t, root))
	for _, f := range []string{"etc/yum.repos.d/pebble-sig-kernel.repo", "etc/pki/rpm-gpg/RPM-GPG-KEY-pebble-sig-kernel"} {
		if _, ok := disabled[f]; ok || enabled[f] == "" {
			t.Errorf("%s: before disable %v, after %v", f, enabled[f] != "", ok)
		}
		delete(enabled, f)
	}
	if len(enabled) != len(disabled) {
		t.Errorf("disable changed more than the two files: %d files before, %d after", len(enabled)+2, len(disabled))
	}
	for f, sum := range enabled {
		if disabled[f] != sum {
			t.Errorf("disable changed %s", f)
		}
	}
	if len(before) > len(disabled) {
		t.Errorf("files vanished: %d before enable, %d after disable", len(before), len(disabled))
	}
	// One repository of two: sig list says so, repository by repository.
	d.mustRun("sig", "enable", "kernel", "lts", "--from", cur, "--root", root, "--key", d.pubKey())
	if list := d.mustRun("sig", "list", "--from", cur, "--root", root, "--key", d.pubKey()); !strings.Contains(list, "kernel     1.0.0    partly    repos: mainline:off lts:on") {
		t.Errorf("sig list with one of kernel's repositories on:\n%s", list)
	}
	d.mustRun("sig", "disable", "kernel", "--from", cur, "--root", root, "--key", d.pubKey())
	checkReleasePackageStays(t, d, cur)

	// A root that cannot be written: an error, and nothing half-written.
	blocked := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocked, nil, 0o644)
	if _, stderr, code := d.run("sig", "enable", "hello", "--from", cur, "--root", blocked, "--key", d.pubKey()); code == 0 || !strings.Contains(stderr, "--root "+blocked) {
		t.Errorf("an unwritable root: exit %d %s", code, stderr)
	}
}
