package source_test

import (
	"context"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/arch"
	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/core/source"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// The SRPMs these tests build are of packages the example lists under
// patches.none, so that nothing but the SRPM is imported.

// specNamed is a spec of package name whose %install ships what it is
// given, with extra lines in its preamble.
func specNamed(name, preamble, install string) string {
	return "Name: " + name + "\nVersion: 1.0\nRelease: 1%{?dist}\nSummary: " + name + "\nLicense: MIT\nBuildArch: noarch\n" +
		preamble + "\n%description\n" + name + ".\n%prep\n%build\n%install\nmkdir -p %{buildroot}/usr/share/" + name + "\n" +
		install + "\n%files\n/usr/share/" + name + "\n"
}

// importFrom imports one package from the SRPMs in dir/srpms.
func importFrom(t *testing.T, dir, name string) (*source.Importer, *lock.Package, error) {
	t.Helper()
	im := srpmImporter(t, dir, "upstream:\n  srpms: srpms\n")
	res, err := im.Import(context.Background(), lock.New(), []source.Request{{Name: name}})
	if err != nil {
		return im, nil, err
	}
	return im, res[0].Entry, nil
}

// quarryBuild plans the imported package as quarry build does
// (plan.Loader: its SRPM, its spec read for every target, in sandboxes)
// and builds its jobs for the host with build.Local, each in its sandbox;
// it returns the RPMs by file name, or what stopped it: the package's
// problem, or its job's error.
func quarryBuild(t *testing.T, im *source.Importer, name string, e *lock.Package) (map[string][]byte, error) {
	t.Helper()
	lk := lock.New()
	lk.Packages[name] = e
	l := &plan.Loader{Config: im.Config, Lock: lk, Store: im.Store, StateDir: im.StateDir}
	pkgs, problems, err := l.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range problems {
		if pr.Package == name {
			return nil, errors.New(pr.String())
		}
	}
	envs, _ := l.Envs()
	p := plan.Make(plan.Input{Arches: []string{arch.Host()}, Packages: pkgs, Host: plan.DetectHost()})
	if len(p.Jobs) == 0 {
		t.Fatalf("%s: no job: %v", name, p.Problems)
	}
	exec := &build.Local{Store: im.Store, Work: t.TempDir()}
	rpms := map[string][]byte{}
	for _, j := range p.Jobs {
		job := &build.Job{ID: j.ID, Package: name, Arch: j.Arch, SRPM: build.Input{Name: j.SRPMFile, SHA256: j.SRPM}, Env: envs[j.Arch]}
		rec, err := exec.Run(context.Background(), job, nil)
		if err != nil {
			return nil, err
		}
		for _, o := range rec.Outputs {
			if rpms[o.File], err = im.Store.Get(o.SHA256); err != nil {
				t.Fatal(err)
			}
		}
	}
	return rpms, nil
}

// built is quarryBuild's RPMs; anything that stops it fails the test.
func built(t *testing.T, im *source.Importer, name string, e *lock.Package) map[string][]byte {
	t.Helper()
	rpms, err := quarryBuild(t, im, name, e)
	if err != nil {
		t.Fatal(err)
	}
	return rpms
}

// sameRPMs compares the RPMs Quarry built with those rpmbuild --rebuild
// wrote (paths): the same file names, each with the same payload.
func sameRPMs(t *testing.T, quarry map[string][]byte, rebuilt []string) {
	t.Helper()
	if got, want := slices.Sorted(maps.Keys(quarry)), baseNames(rebuilt); !slices.Equal(got, want) {
		t.Fatalf("Quarry built %v, rpmbuild --rebuild %v", got, want)
	}
	for _, p := range rebuilt {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		if got, want := payload(t, name, quarry[name]), payload(t, name, data); got != want {
			t.Errorf("%s: Quarry's holds\n%s\nrpmbuild --rebuild's\n%s", name, got, want)
		}
	}
}

// payload lists an RPM's files with their contents.
func payload(t *testing.T, name string, data []byte) string {
	t.Helper()
	f, err := rpmfile.Read(name, data)
	if err != nil {
		t.Fatal(err)
	}
	files, err := f.Files()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range slices.Sorted(maps.Keys(files)) {
		out = append(out, p+": "+string(files[p].Data))
	}
	return strings.Join(out, "\n")
}

// intoFolder returns a function that copies an SRPM fixtures built into
// dir/srpms, the folder importFrom imports from, and returns its path there.
func intoFolder(t *testing.T, dir string) func(string, error) string {
	return func(srpm string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(srpm)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, "srpms", filepath.Base(srpm))
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return dst
	}
}

// baseNames are the sorted file names of paths.
func baseNames(paths []string) []string {
	var out []string
	for _, p := range paths {
		out = append(out, filepath.Base(p))
	}
	slices.Sort(out)
	return out
}

// rpmSpecFile is the file rpm flags as the SRPM's spec (RPMFILE_SPECFILE).
func rpmSpecFile(t *testing.T, srpm string) string {
	t.Helper()
	out, err := exec.Command("rpm", "-qp", "--qf", "[%{filenames}\t%{fileflags}\n]", srpm).Output()
	if err != nil {
		t.Fatal(err)
	}
	spec := ""
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, flags, _ := strings.Cut(line, "\t")
		if flags == "32" {
			spec = name
		}
	}
	return spec
}

// TestSpecIsTheFileRPMFlags: an SRPM's spec is the file rpm flags as the
// spec, not a file named *.spec. rpmbuild --rebuild builds an SRPM whose
// spec is foo._spec and one that ships a second .spec file as a source;
// Quarry imports, plans and builds both to the same RPMs, keeping the
// spec's name and the other .spec file among the sources.
func TestSpecIsTheFileRPMFlags(t *testing.T) {
	slow(t)
	cases := []struct {
		name, specFile, spec string
		sources              map[string][]byte
		source               string // a .spec file that is only a source
	}{
		{name: "tzinfo-mini", specFile: "tzinfo-mini._spec",
			spec: specNamed("tzinfo-mini", "", "echo zones > %{buildroot}/usr/share/tzinfo-mini/zones")},
		{name: "shell-helpers", specFile: "shell-helpers.spec", source: "helper.spec",
			sources: map[string][]byte{"helper.spec": []byte("Name: not-this-one\n")},
			spec: specNamed("shell-helpers", "Source1: helper.spec",
				"install -m 644 %{SOURCE1} %{buildroot}/usr/share/shell-helpers/helper.spec")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			srpm := intoFolder(t, dir)(fixtures.BuildSRPMFile(t.TempDir(), tc.specFile, tc.spec, tc.sources))
			// What rpm does with it.
			if got := rpmSpecFile(t, srpm); got != tc.specFile {
				t.Fatalf("rpm flags %q as the spec, want %s", got, tc.specFile)
			}
			want, err := fixtures.Rebuild(t.TempDir(), srpm, "dist .pbl9")
			if err != nil {
				t.Fatal(err)
			}
			// What Quarry does with it.
			im, e, err := importFrom(t, dir, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			tree, _ := im.Store.GetTree(e.Tree)
			if spec, err := tree.Spec(); err != nil || spec != "SPECS/"+tc.specFile {
				t.Errorf("the imported tree's spec is %q (%v), want SPECS/%s: %v", spec, err, tc.specFile, tree.Paths())
			}
			if tc.source != "" && tree["SOURCES/"+tc.source] == nil {
				t.Errorf("%s is not among the sources: %v", tc.source, tree.Paths())
			}
			if e.NVR != tc.name+"-1.0-1.pbl9" {
				t.Errorf("NVR %s", e.NVR)
			}
			sameRPMs(t, built(t, im, tc.name, e), want)
		})
	}
}

// TestSpecFlagInTheOldLayout: an SRPM in rpm 3's layout (OLDFILENAMES,
// with or without header regions) names its spec by the same flag, which
// rpm reads through the old file list; so does the importer.
func TestSpecFlagInTheOldLayout(t *testing.T) {
	path, err := fixtures.BuildSRPMFile(t.TempDir(), "tzinfo-mini._spec", specNamed("tzinfo-mini", "", "true"), nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, region := range []bool{true, false} {
		old, err := fixtures.OldLayout(data, region)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "tzinfo-mini-1.0-1.src.rpm")
		if err := os.WriteFile(file, old, 0o644); err != nil {
			t.Fatal(err)
		}
		if got := rpmSpecFile(t, file); got != "tzinfo-mini._spec" {
			t.Fatalf("region %v: rpm flags %q as the spec", region, got)
		}
		s, err := source.ReadSRPM(filepath.Base(file), old)
		if err != nil {
			t.Fatalf("region %v: %v", region, err)
		}
		if spec, err := s.Tree.Spec(); err != nil || spec != "SPECS/tzinfo-mini._spec" {
			t.Errorf("region %v: the spec is %q (%v), want SPECS/tzinfo-mini._spec", region, spec, err)
		}
	}
}
