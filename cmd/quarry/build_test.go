package main_test

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/testing/fixtures"
)

// badSpec is a package that fails in %build doing what build must not allow.
func badSpec(name, build string) fixtures.Package { return misbehaving(name, "", build) }

// misbehaving is a package whose %build is build, with more header lines
// (a Summary of its own among them, or the default one).
func misbehaving(name, header, build string) fixtures.Package {
	if !strings.Contains(header, "Summary:") {
		header = "Summary: A package that misbehaves\n" + header
	}
	spec := fmt.Sprintf(`Name: %s
Version: 1
Release: 1%%{?dist}
License: MIT
%s

%%description
Misbehaves in %%build.

%%build
%s

%%files
`, name, header, build)
	return fixtures.Package{Name: name, Layout: fixtures.CentOS, Spec: []byte(spec), NVR: name + "-1-1.el9"}
}

type jobEvent struct {
	Event, Job, Status, Error string
	Outputs                   []struct{ File, SHA256, Name, Arch string }
}

// buildJSON runs quarry build --json and returns the final job lines by ID.
func (d *distro) buildJSON(env []string, args ...string) (map[string]jobEvent, string, int) {
	d.t.Helper()
	stdout, stderr, code := d.runEnv(env, append([]string{"--json", "build"}, args...)...)
	jobs := map[string]jobEvent{}
	for _, line := range strings.Split(stdout, "\n") {
		var ev jobEvent
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Event == "result" {
			jobs[ev.Job] = ev
		}
	}
	return jobs, stderr, code
}

func statuses(jobs map[string]jobEvent, status string) []string {
	var out []string
	for id, j := range jobs {
		if j.Status == status {
			out = append(out, id)
		}
	}
	return out
}

// TestBuildExample builds part of the example for every arch, with three
// packages that misbehave, then checks what a maintainer relies on.
func TestBuildExample(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	// A listener on the host's loopback: a sandboxed job must not reach it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	d.publish(
		badSpec("broken", "echo 'intentional failure' >&2; exit 3"),
		badSpec("netcheck", fmt.Sprintf("bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d'", port)),
		badSpec("escape", "echo pwned > /etc/quarry-escape"),
		badSpec("keythief", "cat "+filepath.Join(d.state, "keys", "core.key")),
	)
	d.only([]string{"libgreet", "greet-tools", "greet-motd", "cpu-probe", "legacy-io", "broken", "netcheck", "escape", "keythief"},
		[]string{"libgreet", "greet-tools", "greet-motd", "cpu-probe", "legacy-io", "broken", "netcheck", "escape", "keythief"})
	d.mustRun("import")
	d.keyInit()

	jobs, stderr, code := d.buildJSON(nil)
	if code == 0 {
		t.Fatalf("build with broken packages exited 0")
	}
	wantBuilt := []string{"libgreet/x86_64", "libgreet/aarch64", "libgreet/ppc64le", "libgreet/s390x",
		"greet-tools/x86_64", "greet-tools/aarch64", "greet-tools/ppc64le", "greet-tools/s390x",
		"greet-motd/noarch", "cpu-probe/x86_64", "cpu-probe/aarch64", "legacy-io/x86_64", "legacy-io/aarch64", "legacy-io/ppc64le"}
	for _, id := range wantBuilt {
		if jobs[id].Status != "built" {
			t.Errorf("%s: %s %s", id, jobs[id].Status, jobs[id].Error)
		}
	}
	if len(jobs) != len(wantBuilt)+16 {
		t.Errorf("%d jobs, want %d: %v", len(jobs), len(wantBuilt)+16, jobs)
	}
	for pkg, want := range map[string]string{
		"broken":   "intentional failure",
		"netcheck": "/dev/tcp/127.0.0.1",
		// The root's /etc is its root's, not the build user's.
		"escape": "/etc/quarry-escape: Permission denied",
		// The signing key is never visible to a build job.
		"keythief": "core.key: No such file or directory",
	} {
		for _, a := range []string{"x86_64", "aarch64", "ppc64le", "s390x"} {
			j := jobs[pkg+"/"+a]
			if j.Status != "failed" || !strings.Contains(j.Error, pkg+"/"+a+": rpmbuild failed") || !strings.Contains(j.Error, want) {
				t.Errorf("%s/%s: %s, error %q; want a failure showing %q", pkg, a, j.Status, j.Error, want)
			}
		}
	}
	if !strings.Contains(stderr, "intentional failure") {
		t.Errorf("stderr does not show the failing log:\n%s", stderr)
	}
	ln.(*net.TCPListener).SetDeadline(time.Now())
	if c, err := ln.Accept(); err == nil {
		c.Close()
		t.Error("a sandboxed job reached the host's network")
	}
	if _, err := os.Stat("/etc/quarry-escape"); err == nil {
		t.Error("a job wrote to the host's /etc")
	}

	// Every foreign-arch binary is of its arch, links the batch's libgreet,
	// and runs under qemu-user, with the C library of the image it was
	// built in.
	for _, a := range []string{"aarch64", "ppc64le", "s390x"} {
		root := t.TempDir()
		for _, id := range []string{"libgreet/" + a, "greet-tools/" + a} {
			for _, o := range jobs[id].Outputs {
				extract(t, d, o.SHA256, root)
			}
		}
		bin := filepath.Join(root, "usr/bin/greet-tools")
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		machine := map[string]elf.Machine{"aarch64": elf.EM_AARCH64, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390}[a]
		if f.Machine != machine {
			t.Errorf("%s greet-tools is %s", a, f.Machine)
		}
		f.Close()
		triplet := map[string]string{"aarch64": "aarch64-linux-gnu", "ppc64le": "powerpc64le-linux-gnu", "s390x": "s390x-linux-gnu"}[a]
		// The image's loader, run as the program: qemu's -L does not
		// follow the image's absolute links (/lib64/ld64.so.2).
		image := fixtures.Buildroot(t, a).Root
		lib := filepath.Join(image, "usr/lib", triplet)
		loader := map[string]string{"aarch64": "ld-linux-aarch64.so.1", "ppc64le": "ld64.so.2", "s390x": "ld64.so.1"}[a]
		out, err := exec.Command("qemu-"+a, "-L", image, filepath.Join(lib, loader),
			"--library-path", filepath.Join(root, "usr/lib", triplet)+":"+lib, bin).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "libgreet 1.2" {
			t.Errorf("qemu-%s greet-tools: %v: %s", a, err, out)
		}
	}

	// Nothing changed: every job that built is reused.
	again, _, _ := d.buildJSON(nil)
	if built := statuses(again, "built"); len(built) != 0 {
		t.Errorf("a second build rebuilt %v", built)
	}
	if cached := statuses(again, "cached"); len(cached) != len(wantBuilt) {
		t.Errorf("second build reused %d jobs, want %d", len(cached), len(wantBuilt))
	}

	// A new libgreet rebuilds exactly what builds against it.
	d.bump("libgreet")
	d.mustRun("import", "libgreet")
	why := d.mustRun("plan", "--why", "greet-tools")
	if !strings.Contains(why, "greet-tools/aarch64") || !strings.Contains(why, "will run: its buildroot changes, since libgreet/aarch64 will run first") {
		t.Errorf("plan --why greet-tools:\n%s", why)
	}
	third, _, _ := d.buildJSON(nil)
	rebuilt := statuses(third, "built")
	if len(rebuilt) != 8 || strings.Contains(strings.Join(rebuilt, " "), "motd") || strings.Contains(strings.Join(rebuilt, " "), "cpu-probe") {
		t.Errorf("after a libgreet update, rebuilt %v; want libgreet and greet-tools on 4 arches", rebuilt)
	}

	// In the cross mode (an opt-in), a cross toolchain missing from the
	// host fails its arch, naming the Debian package; its dependents are
	// skipped, the rest builds, with the host's tools.
	raw, _ := os.ReadFile(d.config())
	d.writeConfig(string(raw) + "build:\n  toolchain: cross\n") // only() left no build: section
	bin := t.TempDir()
	entries, _ := os.ReadDir("/usr/bin")
	for _, e := range entries {
		if e.Name() != "s390x-linux-gnu-gcc" {
			os.Symlink(filepath.Join("/usr/bin", e.Name()), filepath.Join(bin, e.Name()))
		}
	}
	fourth, fourthErr, code := d.buildJSON([]string{"PATH=" + bin})
	if code == 0 {
		t.Error("a build without the s390x toolchain exited 0")
	}
	if j := fourth["libgreet/s390x"]; j.Status != "failed" || !strings.Contains(j.Error, "apt-get install gcc-s390x-linux-gnu") {
		t.Errorf("libgreet/s390x without its toolchain: %s %q\n%s", j.Status, j.Error, fourthErr)
	}
	if j := fourth["greet-tools/s390x"]; j.Status != "skipped" {
		t.Errorf("greet-tools/s390x without its library: %s", j.Status)
	}
	if j := fourth["greet-tools/aarch64"]; j.Status != "built" {
		t.Errorf("greet-tools/aarch64 in the cross mode: %s %s", j.Status, j.Error)
	}
}

// only keeps the named packages in one repository; none lists those
// without a patch repository.
func (d *distro) only(pkgs, none []string) {
	d.t.Helper()
	raw, _ := os.ReadFile(d.config())
	text := string(raw)
	text = text[:strings.Index(text, "repositories:")] + "repositories:\n  - name: BaseOS\n    packages: [" + strings.Join(pkgs, ", ") + "]\n"
	text = regexp.MustCompile(`none: \[[^\]]*\]`).ReplaceAllString(text, "none: ["+strings.Join(none, ", ")+"]")
	d.writeConfig(text)
}

// extract unpacks an RPM from the store with rpm2cpio and cpio.
func extract(t *testing.T, d *distro, digest, root string) {
	t.Helper()
	rpm := filepath.Join(d.state, "store", "blobs", "sha256", digest[:2], digest)
	cmd := exec.Command("sh", "-c", "rpm2cpio '"+rpm+"' | cpio -idm --quiet")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("extract %s: %v\n%s", digest, err, out)
	}
}

// A build killed with SIGKILL resumes: the jobs that finished are reused.
func TestKilledBuildResumes(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.only([]string{"libgreet", "greet-tools", "banner"}, []string{"libgreet", "greet-tools"})
	d.editConfig("arches: [x86_64, aarch64, ppc64le, s390x]", "arches: [x86_64, aarch64]")
	d.mustRun("import")
	d.keyInit()

	cmd := d.command("--json", "build", "--jobs", "1")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	built := 0
	sc := bufio.NewScanner(stdout)
	for built < 2 && sc.Scan() {
		var ev struct{ Event, Status string }
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Event == "job" && ev.Status == "built" {
			built++
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if built < 2 {
		t.Fatalf("saw %d built events", built)
	}
	jobs, stderr, code := d.buildJSON(nil)
	if code != 0 {
		t.Fatalf("resumed build exited %d:\n%s", code, stderr)
	}
	if n := len(statuses(jobs, "cached")); n < 2 {
		t.Errorf("the resumed build reused %d jobs, want at least the 2 that finished", n)
	}
	if n := len(statuses(jobs, "cached")) + len(statuses(jobs, "built")); n != 6 {
		t.Errorf("%d jobs finished, want 6", n)
	}
}
