package main_test

// Attacks on the trust boundary from upstream: specs that are code, and
// builds that plant links, read host secrets or run away. Each must fail
// with the package and the rule or limit named, and leave quarry.lock and
// the published tree byte-identical.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// hostileSpec is a noarch package whose spec header is text.
func hostileSpec(name, header, build string) fixtures.Package {
	return misbehaving(name, "BuildArch: noarch\n"+header, build)
}

// noSandboxLeft checks that every sandbox a run used was taken down
// (other test processes' busy ones aside).
func noSandboxLeft(t *testing.T) {
	t.Helper()
	if left, err := sandbox.Leftovers(); err != nil || len(left) > 0 {
		t.Errorf("sandboxes left mounted: %v %v", left, err)
	}
}

// TestSpecsNeverRunOnTheHost: a spec's macros run shell and Lua while rpm
// reads it. Read at import, at planning and at build, they run only in a
// sandbox that sees neither the keys nor the host's /tmp; one that loops
// forever stops at the time limit; one that takes another package's name
// is refused.
func TestSpecsNeverRunOnTheHost(t *testing.T) {
	slow(t)
	d := newDistro(t)
	key := filepath.Join(d.state, "keys", "core.key")
	mark := fmt.Sprintf("/tmp/quarry-pwned-%d", os.Getpid())
	thief := hostileSpec("macrothief",
		`%global stolen %(cat `+key+` 2>&1 | head -c 300; touch `+mark+`-shell)
%{lua: local f = io.open("`+key+`"); if f then rpm.define("lua_stolen " .. f:read("*a")) end; os.execute("touch `+mark+`-lua")}
Summary: stolen %{stolen} %{?lua_stolen}`, "echo %{stolen}")
	d.publish(thief)
	d.only([]string{"banner", "macrothief"}, []string{"macrothief"})
	d.editConfig("arches: [x86_64, aarch64, ppc64le, s390x]", "arches: [x86_64]")
	d.writeConfig(strings.Replace(readFile(t, d.config()), "repositories:", "build:\n  limits:\n    time: 8s\nrepositories:", 1))
	d.keyInit()
	d.mustRun("build")
	for _, m := range []string{mark + "-shell", mark + "-lua"} {
		if _, err := os.Stat(m); err == nil {
			os.Remove(m)
			t.Errorf("a spec macro ran on the host: %s exists", m)
		}
	}
	keyData := readFile(t, key)
	rpms, _ := filepath.Glob(filepath.Join(d.out(), "current", "repos", "*", "*", "Packages", "m", "macrothief-*.rpm"))
	if len(rpms) == 0 {
		t.Fatal("macrothief was not published")
	}
	out, err := exec.Command("rpm", "-qp", "--nosignature", "--qf", "%{SUMMARY}\n", rpms[0]).CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "PRIVATE KEY") || strings.Contains(string(out), keyData[40:80]) {
		t.Errorf("the key reached the package:\n%s", out)
	}
	if !strings.Contains(string(out), "No such file or directory") {
		t.Errorf("the macro did not run in the sandbox (the key path should be missing there):\n%s", out)
	}
	noSandboxLeft(t)
	before := d.published()

	// A macro that never ends stops at build.limits.time.
	d.publish(hostileSpec("macroloop", "%global forever %(while :; do :; done)", ""))
	d.only([]string{"banner", "macrothief", "macroloop"}, []string{"macrothief", "macroloop"})
	_, stderr, code := d.run("build")
	if code == 0 || !strings.Contains(stderr, "import macroloop") || !strings.Contains(stderr, "build.limits.time") {
		t.Errorf("a spec that loops: exit %d\n%s", code, stderr)
	}
	before.same(t, d, "a spec that loops")

	// A spec that says it is another package is refused at import.
	taker := hostileSpec("banner", "", "")
	taker.Name, taker.NVR = "nametaker", "nametaker-1-1.el9"
	d.publish(taker)
	d.only([]string{"banner", "macrothief", "nametaker"}, []string{"macrothief", "nametaker"})
	_, stderr, code = d.run("build")
	if code == 0 || !strings.Contains(stderr, `import nametaker: upstream SPECS/nametaker.spec: Name: is "banner"`) {
		t.Errorf("a spec named as another package: exit %d\n%s", code, stderr)
	}
	before.same(t, d, "a spec named as another package")
	noSandboxLeft(t)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestBuildsStayInTheirSandbox: a job that plants links to the key for the
// host to read back, reads host secrets, or runs away in time, processes,
// disk or log fails with what it hit named; nothing is published and the
// lock does not move.
func TestBuildsStayInTheirSandbox(t *testing.T) {
	slow(t)
	d := newDistro(t)
	d.only([]string{"banner"}, nil)
	d.editConfig("arches: [x86_64, aarch64, ppc64le, s390x]", "arches: [x86_64]")
	d.writeConfig(strings.Replace(readFile(t, d.config()), "repositories:",
		"build:\n  limits:\n    time: 8s\n    processes: 64\n    disk: 256MiB\n    log: 1MiB\nrepositories:", 1))
	d.keyInit()
	d.mustRun("build")
	before := d.published()

	key := filepath.Join(d.state, "keys", "core.key")
	hostile := map[string]struct{ build, want string }{
		// The log is the host's pipe, not a file of the job's.
		"logthief": {"ln -sf " + key + " /build/build.log; ln -sf ../../../keys/core.key /build/top/build.log; exit 1", "rpmbuild failed"},
		"linkthief": {"mkdir -p %{_topdir}/RPMS/noarch; ln -s " + key + " %{_topdir}/RPMS/noarch/linkthief-1-1.el9.noarch.rpm",
			"RPMS/noarch/linkthief-1-1.el9.noarch.rpm: a symbolic link"},
		// The host's /etc is not there: the buildroot's is.
		"shadowcopy": {"cp /etc/shadow shadow", "cannot stat '/etc/shadow': No such file or directory"},
		"looper":     {"sh -c 'while :; do :; done'", "ran longer than its time limit (8s): raise build.limits.time"},
		// Under dash: bash, the build shell, retries a refused fork for
		// 15 s, past this test's time limit, before it fails the same way.
		"forker": {"sh -c 'for i in $(seq 1500); do sleep 60 & done; wait'", "hit its process limit (64): raise build.limits.processes"},
		"filler": {"head -c 2000000000 /dev/zero > big", "filled its disk limit (256MiB): raise build.limits.disk"},
		"logger": {"yes 'a runaway log line' | head -c 400000000", "wrote more output than its log limit (1MiB): raise build.limits.log"},
	}
	names := []string{"banner"}
	for name, h := range hostile {
		d.publish(hostileSpec(name, "", h.build))
		names = append(names, name)
	}
	d.only(names, names[1:])
	jobs, stderr, code := d.buildJSON(nil)
	if code == 0 {
		t.Fatal("a build of hostile packages exited 0")
	}
	for name, h := range hostile {
		j := jobs[name+"/noarch"]
		if j.Status != "failed" || !strings.Contains(j.Error, h.want) {
			t.Errorf("%s: %s %q\nwant a failure with %q", name, j.Status, j.Error, h.want)
		}
	}
	if strings.Contains(stderr, "PRIVATE KEY") {
		t.Errorf("the key reached stderr:\n%s", stderr)
	}
	before.same(t, d, "a build of hostile packages")
	noSandboxLeft(t)
}
