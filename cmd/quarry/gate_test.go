package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/testing/fixtures"
)

// hostileSIGs are the plugins in testing/plugins that attack the gate on
// built RPMs, each with the messages it must fail with (SIG, RPM file or
// package, rule).
var hostileSIGs = map[string][]string{
	"nested":   {"sig nested: nested-tool/noarch: rpm banner-9.9-1.noarch.rpm: undeclared-rpm: job nested-tool/noarch wrote banner-99:9.9-1.noarch, which the spec of nested-tool does not declare for noarch (it declares nested-tool-1.0-1.pbl9.noarch)"},
	"casename": {"sig casename: package Banner: no-core-name: Banner is a core package (banner: names are compared without case)"},
	"provides": {
		"sig provides: rpm provides-tool-1.0-1.pbl9.noarch.rpm: no-core-provides: Provides: libgreet.so.1()(64bit), which core package libgreet provides",
		"sig provides: rpm provides-tool-1.0-1.pbl9.noarch.rpm: no-core-provides: Provides: /usr/bin/greet, a path core package greet owns",
		"sig provides: rpm provides-tool-1.0-1.pbl9.noarch.rpm: no-core-provides: Provides: libc.so.6()(64bit), which core package glibc provides",
		"sig provides: rpm provides-tool-1.0-1.pbl9.noarch.rpm: no-core-conflicts: Conflicts: libgreet.so.1()(64bit), which core package libgreet provides",
	},
	"repofile": {"sig repofile: rpm repofile-baseos-1.0-1.pbl9.noarch.rpm: no-package-manager-paths: file /etc/yum.repos.d/00-pebble-baseos.repo is under /etc/yum.repos.d: dnf's repository definitions"},
	"corefile": {
		"sig corefile: rpm corefile-tool-1.0-1.pbl9.noarch.rpm: no-core-files: file /usr/bin/greet, which core package greet owns (file)",
		"sig corefile: rpm corefile-tool-1.0-1.pbl9.noarch.rpm: no-core-files: file /bin/banner (/usr/bin/banner), which core package banner owns (file)",
	},
	"trigger": {
		"sig trigger: rpm trigger-tool-1.0-1.pbl9.noarch.rpm: no-core-triggers: a %trigger on kernel, the name of core package kernel",
		"sig trigger: rpm trigger-tool-1.0-1.pbl9.noarch.rpm: no-core-triggers: a file trigger on /usr/bin, which covers /usr/bin/banner (core package banner)",
	},
}

// TestGateJudgesWhatWasBuilt: SIGs whose specs pass the gate on what they
// declare, but whose built RPMs overreach, each fail with the SIG, the RPM
// and the rule, built and then cached; the core and a good SIG publish,
// and out/current and quarry.lock are byte-identical; with every published
// repository, dnf finds none of their packages, and pebble-baseos is the
// core's. Then a core package whose %install drops an extra RPM fails the
// build, naming the file.
func TestGateJudgesWhatWasBuilt(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.editConfig("arches: [x86_64, aarch64, ppc64le, s390x]", "arches: [x86_64]")
	d.keyInit()
	bin := filepath.Join(d.dir, "bin")
	buildSIG(t, bin, "hello", "./examples/hello-sig")
	raw, _ := os.ReadFile(d.config())
	base := string(raw) + "sigs:\n  - name: hello\n    config:\n      greeting: Hello from a test\n"
	d.writeConfig(base)
	d.mustRun("plugin", "lock")
	d.mustRun("key", "init", "--bits", "2048", "--sig", "hello")
	d.mustRun("build")
	before := d.published()

	hostile := base
	for name := range hostileSIGs {
		buildSIG(t, bin, name, "./testing/plugins/"+name)
		hostile += "  - name: " + name + "\n"
	}
	d.writeConfig(hostile)
	d.mustRun("plugin", "lock")
	for name := range hostileSIGs {
		d.mustRun("key", "init", "--bits", "2048", "--sig", name)
	}
	// Built, then cached: the gate reads back what the cache holds too.
	for _, run := range []string{"built", "cached"} {
		stdout, stderr, code := d.run("build", "--no-import")
		// The second run has nothing new: it publishes nothing, and says so.
		want := map[string]string{"built": "published compose", "cached": "nothing new to publish"}[run]
		if code == 0 || !strings.Contains(stdout, want) {
			t.Fatalf("%s: exit %d\n%s\n%s", run, code, stdout, stderr)
		}
		for name, wants := range hostileSIGs {
			for _, want := range wants {
				if !strings.Contains(stderr, want) {
					t.Errorf("%s: sig %s: stderr lacks %q", run, name, want)
				}
			}
		}
		t.Logf("%s:\n%s", run, stderr)
		wantErr := map[string]string{"built": "quarry: 6 SIGs failed; the core and the other SIGs are published", "cached": "quarry: 6 SIGs failed"}[run]
		if !strings.Contains(stderr, wantErr) || strings.Contains(stderr, "sig hello: failed") {
			t.Errorf("%s: %s", run, lastLine(stderr))
		}
		before.sameContent(t, d, run+" with hostile SIGs")
	}
	checkCoreRepoHolds(t, d)
	checkCoreJobRefused(t, d)
}

// checkCoreRepoHolds: with the core's release package installed and every
// published repository enabled, dnf finds none of the hostile packages,
// its repository files are the core's, and pebble-baseos is the core's.
func checkCoreRepoHolds(t *testing.T, d *distro) {
	t.Helper()
	cur := filepath.Join(d.out(), "current")
	dirs, _ := filepath.Glob(filepath.Join(cur, "sig", "*", "*", "x86_64", "repodata"))
	repos := map[string]string{"BaseOS": filepath.Join(cur, "repos", "BaseOS", "x86_64")}
	for _, r := range dirs {
		rel, _ := filepath.Rel(cur, filepath.Dir(r))
		repos[strings.ReplaceAll(rel, "/", "-")] = filepath.Dir(r)
	}
	for _, n := range []string{"nested", "provides", "repofile", "corefile", "trigger"} {
		if _, ok := repos["sig-"+n+"-extras-x86_64"]; ok {
			t.Errorf("sig %s has a published repository", n)
		}
	}
	root := filepath.Join(t.TempDir(), "root")
	dnf := func(args ...string) (string, error) {
		args = append([]string{"-y", "--installroot", root, "--releasever", "9", "--setopt=cachedir=" + filepath.Join(root, "..", "cache")}, args...)
		out, err := exec.Command("dnf", args...).CombinedOutput()
		return string(out), err
	}
	var conf strings.Builder
	for name, path := range repos {
		conf.WriteString("[t-" + name + "]\nname=" + name + "\nbaseurl=file://" + path + "\ngpgcheck=0\nenabled=1\n\n")
	}
	reposd := filepath.Join(root, "..", "repos.d")
	os.MkdirAll(reposd, 0o755)
	os.WriteFile(filepath.Join(reposd, "t.repo"), []byte(conf.String()), 0o644)
	for _, pkg := range []string{"repofile-baseos", "provides-tool", "corefile-tool", "trigger-tool", "nested-tool"} {
		if out, err := dnf("--setopt=reposdir="+reposd, "install", pkg); err == nil || !strings.Contains(out, "No match for argument: "+pkg) {
			t.Errorf("dnf install %s with every published repository: %v\n%s", pkg, err, out)
		}
	}
	if out, err := dnf("--setopt=reposdir="+reposd, "install", "pebble-release"); err != nil {
		t.Fatalf("dnf install pebble-release: %v\n%s", err, out)
	}
	got, _ := filepath.Glob(filepath.Join(root, "etc", "yum.repos.d", "*"))
	if len(got) != 1 || filepath.Base(got[0]) != "pebble.repo" {
		t.Errorf("the root's repository files: %v", got)
	}
	// The root's own configuration, as dnf reads it there.
	key := "file://" + filepath.Join(root, "etc", "pki", "rpm-gpg", "RPM-GPG-KEY-pebble")
	out, err := dnf("--setopt=reposdir="+filepath.Join(root, "etc", "yum.repos.d"), "--setopt=pebble-baseos.gpgkey="+key, "repoinfo", "pebble-baseos")
	if err != nil || !strings.Contains(out, "file://"+cur+"/repos/BaseOS/x86_64/") || strings.Contains(out, "mirror.invalid") {
		t.Errorf("dnf repoinfo pebble-baseos: %v\n%s", err, out)
	}
}

// checkCoreJobRefused: a core package whose %install runs a nested
// rpmbuild into RPMS/ fails its job, naming the file and the rule; nothing
// is published and the lock is as the import left it.
func checkCoreJobRefused(t *testing.T, d *distro) {
	t.Helper()
	d.bump("tzinfo-mini", func(p *fixtures.Package) {
		p.Spec = []byte(strings.Replace(string(p.Spec), "%install\n", "%install\n"+
			`printf "%%s\n" "Name: banner" "Epoch: 99" "Version: 9.9" "Release: 1" "Summary: x" "License: MIT" "BuildArch: noarch" "%%description" "x" "%%files" > inner.spec
rpmbuild -bb --define "_topdir $PWD/inner" --define "_tmppath %{_tmppath}" inner.spec
mkdir -p %{_topdir}/RPMS/noarch
cp inner/RPMS/noarch/banner-9.9-1.noarch.rpm %{_topdir}/RPMS/noarch/
`, 1))
	})
	d.mustRun("import")
	before := d.published()
	jobs, stderr, code := d.buildJSON(nil, "--no-import")
	if code == 0 || jobs["tzinfo-mini/noarch"].Status != "failed" {
		t.Fatalf("a core job with an undeclared RPM: exit %d, %+v\n%s", code, jobs["tzinfo-mini/noarch"], stderr)
	}
	want := "tzinfo-mini/noarch: rpm banner-9.9-1.noarch.rpm: undeclared-rpm: job tzinfo-mini/noarch wrote banner-99:9.9-1.noarch, which the spec of tzinfo-mini does not declare for noarch (it declares tzinfo-mini-2024a-2.pbl9.noarch)"
	if !strings.Contains(stderr, want) || !strings.Contains(stderr, "nothing published") {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	before.same(t, d, "a core job with an undeclared RPM")
}
