package source_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/testing/fixtures"
)

// TestNoarchSpecsReadAsTheBuildHost: bash and glibc test %__isa_bits in
// their preamble. rpmbuild reads a BuildArch: noarch spec with the build
// arch's platform macros and only sets the target cpu to noarch, so such
// a spec builds, to a noarch RPM, with %_arch and %_lib the build host's.
// Quarry plans and builds it the same: the same RPM, the same contents.
func TestNoarchSpecsReadAsTheBuildHost(t *testing.T) {
	slow(t)
	dir := t.TempDir()
	spec := specNamed("sysstat-lite", "%if %{__isa_bits} == 64\n%global bits 64\n%else\n%global bits 32\n%endif",
		"echo %{bits} %{_arch} %{_target_cpu} %{_lib} > %{buildroot}/usr/share/sysstat-lite/platform")
	srpm := intoFolder(t, dir)(fixtures.BuildSRPM(t.TempDir(), "sysstat-lite", spec))
	want, err := fixtures.Rebuild(t.TempDir(), srpm, "dist .pbl9")
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 1 || !strings.HasSuffix(want[0], ".noarch.rpm") {
		t.Fatalf("rpmbuild --rebuild wrote %v", want)
	}
	im, e, err := importFrom(t, dir, "sysstat-lite")
	if err != nil {
		t.Fatal(err)
	}
	got := built(t, im, "sysstat-lite", e)
	sameRPMs(t, got, want)
	if p := payload(t, filepath.Base(want[0]), got[filepath.Base(want[0])]); !strings.Contains(p, " noarch ") {
		t.Errorf("%s: the target cpu is not noarch: %s", want[0], p)
	}
}

// TestScriptsRunWithBash: EL specs assume /bin/sh is bash; Debian's is
// dash, where rpmbuild --rebuild fails with "Bad substitution". With
// %_buildshell /bin/bash rpmbuild builds it, and so does Quarry, to the
// same RPM.
func TestScriptsRunWithBash(t *testing.T) {
	slow(t)
	dir := t.TempDir()
	spec := strings.Replace(specNamed("calcium", "", "install -m 644 fruit %{buildroot}/usr/share/calcium/fruit"),
		"%build\n", "%build\nv=banana\necho ${v//a/o} > fruit\n", 1)
	spec = strings.Replace(spec, "BuildArch: noarch\n", "", 1) // an arch job
	srpm := intoFolder(t, dir)(fixtures.BuildSRPM(t.TempDir(), "calcium", spec))
	if _, err := fixtures.Rebuild(t.TempDir(), srpm, "dist .pbl9"); err == nil || !strings.Contains(err.Error(), "Bad substitution") {
		t.Fatalf("rpmbuild --rebuild with /bin/sh: %v, want a Bad substitution", err)
	}
	want, err := fixtures.Rebuild(t.TempDir(), srpm, "dist .pbl9", "_buildshell /bin/bash")
	if err != nil {
		t.Fatal(err)
	}
	im, e, err := importFrom(t, dir, "calcium")
	if err != nil {
		t.Fatal(err)
	}
	got := built(t, im, "calcium", e)
	sameRPMs(t, got, want)
	if p := payload(t, filepath.Base(want[0]), got[filepath.Base(want[0])]); !strings.Contains(p, "bonono") {
		t.Errorf("%s: %s", want[0], p)
	}
}
