package source_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/testing/fixtures"
)

// TestIncludeOfAShippedFile: a spec that does %include %{SOURCE1} reads
// the file from its _sourcedir, at rpmbuild -bs and at rpmbuild
// --rebuild; Quarry's import-time queries, its SRPM and its build see it
// there too. A relative %include is opened from rpm's current folder:
// rpmbuild -bs took it only because it ran in SOURCES, and rpmbuild
// --rebuild (from anywhere else) refuses the SRPM; so does Quarry's
// import, naming the package and the file.
func TestIncludeOfAShippedFile(t *testing.T) {
	slow(t)
	inc := map[string][]byte{"version.inc": []byte("%global upstream_version 2.5\n")}
	for _, tc := range []struct {
		name, include, refused string
	}{
		{name: "docs-bundle", include: "%include %{SOURCE1}"},
		{name: "greet-motd", include: "%include version.inc", refused: "Unable to open version.inc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			spec := "Source1: version.inc\n" + tc.include + "\n" + strings.Replace(specNamed(tc.name, "",
				"echo %{upstream_version} > %{buildroot}/usr/share/"+tc.name+"/version"), "Version: 1.0", "Version: %{upstream_version}", 1)
			srpm := intoFolder(t, dir)(fixtures.BuildSRPMWith(t.TempDir(), tc.name, spec, inc))
			want, rebuildErr := fixtures.Rebuild(t.TempDir(), srpm, "dist .pbl9")
			im, e, err := importFrom(t, dir, tc.name)
			if tc.refused != "" {
				if rebuildErr == nil || !strings.Contains(rebuildErr.Error(), tc.refused) {
					t.Fatalf("rpmbuild --rebuild: %v, want %q", rebuildErr, tc.refused)
				}
				if err == nil || !strings.Contains(err.Error(), tc.refused) || !strings.Contains(err.Error(), tc.name) {
					t.Fatalf("import: %v, want an error naming %s and %q", err, tc.name, tc.refused)
				}
				return
			}
			if rebuildErr != nil {
				t.Fatal(rebuildErr)
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.NVR != tc.name+"-2.5-1.pbl9" {
				t.Errorf("NVR %s, want the version the included file sets", e.NVR)
			}
			sameRPMs(t, built(t, im, tc.name, e), want)
		})
	}
}

// TestIncludeWhileDebranding: the debranding's changelog entry names the
// version the spec evaluates to, read with the package's sources beside
// the spec: greet's version comes from a file it ships and %includes.
// rpm reads the SRPM's version as 2.0; the import's entry says so too.
func TestIncludeWhileDebranding(t *testing.T) {
	slow(t)
	dir := t.TempDir()
	srpms := filepath.Join(dir, "srpms")
	buildEditedSRPM(t, "greet", srpms, func(p *fixtures.Package) {
		p.Spec = append([]byte("Source99: greet-version.inc\n%include %{SOURCE99}\n"),
			bytes.Replace(p.Spec, []byte("Version:        2.0"), []byte("Version:        %{upstream_version}"), 1)...)
		p.Files["greet-version.inc"] = []byte("%global upstream_version 2.0\n")
	})
	files, _ := filepath.Glob(filepath.Join(srpms, "greet-*.src.rpm"))
	if len(files) != 1 {
		t.Fatalf("SRPMs %v", files)
	}
	version, err := exec.Command("rpm", "-qp", "--qf", "%{version}", files[0]).Output()
	if err != nil || string(version) != "2.0" {
		t.Fatalf("rpm reads the SRPM's version as %q (%v)", version, err)
	}
	if err := generated.CopyTo(filepath.Join(dir, "upstream")); err != nil {
		t.Fatal(err)
	}
	im, e, err := importFrom(t, dir, "greet")
	if err != nil {
		t.Fatal(err)
	}
	tree, _ := im.Store.GetTree(e.Tree)
	if e.NVR != "greet-2.0-1.pbl9.pebble.1" || !bytes.Contains(tree["SPECS/greet.spec"].Data, []byte("> - 2.0-1.pebble.1\n- Greet Pebble users by default")) {
		t.Errorf("NVR %s, spec:\n%s", e.NVR, tree["SPECS/greet.spec"].Data)
	}
}
