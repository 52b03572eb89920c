package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// coreRepos are the core's published repositories.
var coreRepos = []string{"BaseOS", "AppStream", "CRB"}

// dnfForceArch installs pkgs with the real dnf into a new, empty
// installroot from the current publication's core repositories of arch
// (--forcearch: a foreign arch's packages too), checking package and
// repomd signatures against the core key, without weak dependencies. It
// returns the root, or dnf's output with the error.
func (d *distro) dnfForceArch(arch string, pkgs ...string) (string, string, error) {
	d.t.Helper()
	dir := d.t.TempDir()
	cur := filepath.Join(d.out(), "current")
	var repos strings.Builder
	for _, r := range coreRepos {
		repos.WriteString("[t-" + r + "]\nname=" + r + "\nbaseurl=file://" + filepath.Join(cur, "repos", r, arch) +
			"\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file://" + filepath.Join(cur, "keys", "RPM-GPG-KEY-pebble") + "\nenabled=1\n\n")
	}
	os.MkdirAll(filepath.Join(dir, "repos.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "repos.d", "t.repo"), []byte(repos.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "dnf.conf"), []byte("[main]\ncachedir="+filepath.Join(dir, "cache")+"\n"), 0o644)
	root := filepath.Join(dir, "root")
	args := append([]string{"-y", "--config", filepath.Join(dir, "dnf.conf"), "--installroot", root, "--releasever", "9",
		"--forcearch", arch, "--setopt=reposdir=" + filepath.Join(dir, "repos.d"), "--setopt=install_weak_deps=0", "install"}, pkgs...)
	out, err := exec.Command("dnf", args...).CombinedOutput()
	return root, string(out), err
}

// TestExampleInstallsAndRuns builds the example's core for every arch and
// publishes it once; then, for each arch, the real dnf installs every
// package of BaseOS, AppStream and CRB (arch and noarch) into an empty
// root, with gpgcheck and repo_gpgcheck against the core key, and greet
// runs in it with chroot: natively on x86_64, under qemu-user through
// binfmt_misc on the others. Every automatic Requires of every program
// (libc.so.6(GLIBC_2.34)(64bit), rtld(GNU_HASH), /bin/sh) is met by the
// distribution itself (the glibc and dash stand-ins), and greet prints the
// greeting its Pebble patch makes the default. Last, the demo's
// scripts/try-install.sh does the same and prints each arch's greeting.
func TestExampleInstallsAndRuns(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.keyInit()
	start := time.Now()
	d.mustRun("build")
	t.Logf("build and publish, 4 arches: %s", time.Since(start).Round(time.Second))

	cur := filepath.Join(d.out(), "current")
	var m manifest
	data, err := os.ReadFile(filepath.Join(cur, "manifest.json"))
	if err != nil || json.Unmarshal(data, &m) != nil {
		t.Fatalf("manifest: %v", err)
	}
	const greeting = "Hello, Pebble user!"
	for _, a := range []string{"x86_64", "aarch64", "ppc64le", "s390x"} {
		// Every package the core publishes for the arch, by name.arch.
		var want []string
		names := map[string]bool{}
		for _, art := range m.Artifacts {
			for _, p := range art.Paths {
				for _, r := range coreRepos {
					if strings.HasPrefix(p, "repos/"+r+"/"+a+"/") && !names[art.Name] {
						names[art.Name] = true
						want = append(want, art.Name+"."+art.Arch)
					}
				}
			}
		}
		slices.Sort(want)
		if !slices.Contains(want, "glibc."+a) || !slices.Contains(want, "greet."+a) || !slices.Contains(want, "testsuite-data.noarch") {
			t.Fatalf("%s: the publication lists %v", a, want)
		}
		var pkgs []string
		for n := range names {
			pkgs = append(pkgs, n)
		}
		slices.Sort(pkgs)

		start := time.Now()
		root, out, err := d.dnfForceArch(a, pkgs...)
		if err != nil {
			t.Errorf("%s: dnf install of the whole core: %v\n%s", a, err, out)
			continue
		}
		q, err := exec.Command("rpm", "--root", root, "-qa", "--qf", "%{NAME}.%{ARCH}\n").Output()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, line := range strings.Fields(string(q)) {
			if !strings.HasPrefix(line, "gpg-pubkey.") {
				got = append(got, line)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: installed %v\nwant %v", a, got, want)
		}
		took := time.Since(start)

		// chroot runs the arch's programs with the root's own loader and
		// C library: the kernel hands a foreign one to qemu-user.
		for _, argv := range [][]string{{"greet"}, {"/bin/sh", "-c", "greet"}} {
			cmd := exec.Command("chroot", append([]string{root}, argv...)...)
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			out, err := cmd.CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != greeting {
				t.Errorf("%s: chroot %s: %v: %q, want %q", a, strings.Join(argv, " "), err, out, greeting)
			}
		}
		t.Logf("%s: %d packages installed in %s", a, len(got), took.Round(100*time.Millisecond))
	}

	// The demo's last step: the same, from the script, into its own roots.
	script, _ := filepath.Abs(filepath.Join("..", "..", "scripts", "try-install.sh"))
	cmd := exec.Command(script, cur, filepath.Join(d.state, "keys", "RPM-GPG-KEY-pebble"), filepath.Join(d.dir, "try"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("try-install.sh: %v\n%s", err, out)
	}
	for _, a := range []string{"x86_64", "aarch64", "ppc64le", "s390x"} {
		if !strings.Contains(string(out), a+": "+greeting+"\n") {
			t.Errorf("try-install.sh does not print %q:\n%s", a+": "+greeting, out)
		}
	}
}
