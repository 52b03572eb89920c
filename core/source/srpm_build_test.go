package source_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/testing/fixtures"
)

// TestScriptsRunWithBash: EL specs assume /bin/sh is bash; Debian's is
// dash, where rpmbuild --rebuild fails with "Bad substitution". With
// %_buildshell /bin/bash rpmbuild builds it, and so does Quarry, to the
// same RPM.
func TestScriptsRunWithBash(t *testing.T) {
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
	got := quarryBuild(t, im, "calcium", e)
	sameRPMs(t, got, want)
	if p := payload(t, filepath.Base(want[0]), got[filepath.Base(want[0])]); !strings.Contains(p, "bonono") {
		t.Errorf("%s: %s", want[0], p)
	}
}
