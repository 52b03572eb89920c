package build

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/toolchain"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// hostileDep is a BuildRequires of the batch: built from untrusted
// sources, installed by the root's rpm as the namespace's root with the
// install capabilities. It brings a setuid-root copy of cat and one with
// a file capability (CAP_DAC_OVERRIDE), and its %post leaves a secret
// only the root may read, a process in the background, and a setuid
// shell.
const hostileDep = `Name: hostile-dep
Version: 1
Release: 1
Summary: A BuildRequires whose scriptlet attacks the build after it
License: MIT
%description
x
%install
mkdir -p %{buildroot}/usr/local/bin
cp /usr/bin/cat %{buildroot}/usr/local/bin/suidcat
cp /usr/bin/cat %{buildroot}/usr/local/bin/capcat
%files
%attr(4755,root,root) /usr/local/bin/suidcat
%caps(cap_dac_override=ep) /usr/local/bin/capcat
%post
echo secret > /root-secret && chmod 600 /root-secret
cp /bin/sh /usr/local/bin/rootsh && chmod 4755 /usr/local/bin/rootsh
date +%%s%%N > /build/alive
(setsid sh -c 'while :; do date +%%s%%N > /build/alive; sleep 0.1; done' >/dev/null 2>&1 &)
`

// The build, as the build user: each way back to the install phase's
// powers is tried; the build fails if one works, and writes what it saw
// into its RPM's description otherwise (the log).
const afterHostileDep = `Name: after-hostile
Version: 1
Release: 1
Summary: Builds after hostile-dep
License: MIT
BuildArch: noarch
%description
x
%build
id -u
test -u /usr/local/bin/suidcat && echo suid-bit-there
grep CapEff /proc/self/status
/usr/local/bin/capcat /proc/self/status | grep CapEff | sed 's/^/capcat /'
/usr/local/bin/suidcat /root-secret && exit 1
/usr/local/bin/capcat /root-secret && exit 1
/usr/local/bin/rootsh -p -c 'id -u; cat /root-secret' && exit 1
perl -e 'my ($p, $x, $b) = ("/usr/local/bin/capcat", "security.capability", "\0" x 64); print "capability xattr ", syscall(191, $p, $x, $b, 64) > 0 ? "there" : "missing", "\n"'
a=$(cat /build/alive); sleep 1; test "$a" = "$(cat /build/alive)" || exit 1
true
%files
`

// slow skips a test under go test -short (make test-unit): a real build
// in the x86_64 buildroot, end to end. make test runs it.
func slow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow: a build in the buildroot (make test runs it)")
	}
}

// TestAttackInstallPhaseArmsTheBuild: what the batch's BuildRequires
// leave in the root as its root (setuid files, file capabilities,
// secrets, processes) gives the build user none of that root's powers:
// the root is nosuid, the build user's namespace maps nobody else, and
// the install phase's processes end with it.
func TestAttackInstallPhaseArmsTheBuild(t *testing.T) {
	slow(t)
	img := fixtures.Buildroot(t, "x86_64")
	st, _ := store.Open(t.TempDir())
	deps, err := fixtures.BuildSpec(t.TempDir(), "hostile-dep", hostileDep)
	if err != nil || len(deps) != 1 {
		t.Fatalf("%v %v", deps, err)
	}
	dep, _ := os.ReadFile(deps[0])
	depSum, _ := st.Put(dep)
	srpm, err := fixtures.BuildSRPM(t.TempDir(), "after-hostile", afterHostileDep)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(srpm)
	d, _ := st.Put(data)
	env := toolchain.RootEnv(config.Distribution{Name: "pebble", DistTag: ".pbl9", Version: "9.4", Vendor: "Pebble", Packager: "Pebble", PrettyName: "Pebble"}, "noarch", "x86_64", img.Digest)
	var log strings.Builder
	exec := &Local{Store: st, Work: filepath.Join(t.TempDir(), "work"), Roots: map[string]string{img.Digest: img.Root}}
	job := &Job{ID: "after-hostile/noarch", Package: "after-hostile", Arch: "noarch",
		SRPM: Input{Name: filepath.Base(srpm), SHA256: d}, Buildroot: []Input{{Name: filepath.Base(deps[0]), SHA256: depSum}}, Env: env}
	_, err = exec.Run(context.Background(), job, &log)
	out := log.String()
	if err != nil {
		t.Fatalf("the build after a hostile BuildRequires: %v\n%s", err, out)
	}
	if !strings.Contains(out, "suid-bit-there") || !strings.Contains(out, "capability xattr there") {
		t.Errorf("the premise: the setuid file or the capability is not installed:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "CapEff:") || strings.HasPrefix(line, "capcat CapEff:") {
			if !strings.HasSuffix(line, "0000000000000000") {
				t.Errorf("the build user has capabilities: %s", line)
			}
		}
	}
}
