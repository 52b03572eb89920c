package source_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/source"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// nosrcSpec is fortune-mini at version, its tarball marked NoSource:
// (upstream does not ship it) and unpacked by %prep.
func nosrcSpec(version string) string {
	s := specNamed("fortune-mini", "Source0: fortune-mini-%{version}.tar.gz\nSource1: fortunes.txt\nNoSource: 0",
		"install -m 644 cookie %{SOURCE1} %{buildroot}/usr/share/fortune-mini/")
	s = strings.Replace(s, "Version: 1.0", "Version: "+version, 1)
	return strings.Replace(s, "%prep\n", "%prep\n%setup -q\n", 1)
}

func nosrcSources(t *testing.T, version string) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cookie"), []byte("a fortune\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tgz, err := fixtures.TarGz(dir, "fortune-mini-"+version)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"fortune-mini-" + version + ".tar.gz": tgz, "fortunes.txt": []byte("another\n")}
}

// TestNoSourceSRPMs: a spec with NoSource: makes a .nosrc.rpm, which
// carries every source but the NoSource ones. It is found by its package
// name, from a folder and from an HTTP index, as the newest version
// whichever its suffix (1.10 over a 1.9 .src.rpm), and imported. rpm cannot build it without the
// missing tarball: rpmbuild --rebuild fails in %prep, and rpmbuild -rs
// (an SRPM again, which is what Quarry makes of the imported tree) says
// "Bad file". Quarry's plan says which source is missing, naming the
// package; given the tarball (as a patch repository's add directive
// would), its SRPM is a .nosrc.rpm again and its build fails naming what
// that does not carry.
func TestNoSourceSRPMs(t *testing.T) {
	slow(t)
	dir := t.TempDir()
	old := intoFolder(t, dir)(fixtures.BuildSRPMWith(t.TempDir(), "fortune-mini",
		strings.Replace(nosrcSpec("1.9"), "NoSource: 0\n", "", 1), nosrcSources(t, "1.9")))
	srpm := intoFolder(t, dir)(fixtures.BuildSRPMWith(t.TempDir(), "fortune-mini", nosrcSpec("1.10"), nosrcSources(t, "1.10")))
	if !strings.HasSuffix(old, "fortune-mini-1.9-1.src.rpm") || !strings.HasSuffix(srpm, "fortune-mini-1.10-1.nosrc.rpm") {
		t.Fatalf("rpmbuild -bs wrote %s and %s", old, srpm)
	}
	// What rpm does with it.
	if _, err := fixtures.Rebuild(t.TempDir(), srpm, "dist .pbl9"); err == nil || !strings.Contains(err.Error(), "%prep") {
		t.Fatalf("rpmbuild --rebuild: %v, want %%prep to fail", err)
	}
	rs, err := exec.Command("rpmbuild", "-rs", "--nodeps", "--define", "_topdir "+t.TempDir(), srpm).CombinedOutput()
	if err == nil || !strings.Contains(string(rs), "Bad file: ") || !strings.Contains(string(rs), "fortune-mini-1.10.tar.gz") {
		t.Fatalf("rpmbuild -rs: %v: %s, want a Bad file", err, rs)
	}

	// What Quarry does with it, from the folder and from an HTTP index.
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(dir, "srpms"))))
	defer srv.Close()
	for _, upstream := range []string{"srpms", srv.URL + "/"} {
		im := srpmImporter(t, dir, "upstream:\n  srpms: "+upstream+"\n")
		res, err := im.Import(context.Background(), lock.New(), []source.Request{{Name: "fortune-mini"}})
		if err != nil {
			t.Fatalf("from %s: %v", upstream, err)
		}
		e := res[0].Entry
		if e.NVR != "fortune-mini-1.10-1.pbl9" || !strings.HasSuffix(e.Upstream.URL, "/fortune-mini-1.10-1.nosrc.rpm") {
			t.Fatalf("from %s: imported %s from %s", upstream, e.NVR, e.Upstream.URL)
		}
	}
	im, e, err := importFrom(t, dir, "fortune-mini")
	if err != nil {
		t.Fatal(err)
	}
	tree, _ := im.Store.GetTree(e.Tree)
	if tree["SOURCES/fortunes.txt"] == nil || tree["SOURCES/fortune-mini-1.10.tar.gz"] != nil {
		t.Errorf("the .nosrc.rpm unpacked as %v", tree.Paths())
	}
	_, err = quarryBuild(t, im, "fortune-mini", e)
	t.Logf("plan: %v", err)
	if err == nil || !strings.Contains(err.Error(), "fortune-mini: make SRPM: the spec needs SOURCES/fortune-mini-1.10.tar.gz, which is not among the package's sources") {
		t.Errorf("plan: %v, want the missing source named", err)
	}

	// The tarball added to the tree: rpmbuild -bs makes a .nosrc.rpm of
	// it again, without the tarball, and its build says so.
	tree["SOURCES/fortune-mini-1.10.tar.gz"] = &store.File{Data: nosrcSources(t, "1.10")["fortune-mini-1.10.tar.gz"], Lookaside: true}
	withTarball := *e
	if withTarball.Tree, err = im.Store.PutTree(tree); err != nil {
		t.Fatal(err)
	}
	_, err = quarryBuild(t, im, "fortune-mini", &withTarball)
	t.Logf("build: %v", err)
	if err == nil || !strings.Contains(err.Error(), "fortune-mini/noarch: rpmbuild failed (fortune-mini-1.10-1.pbl9.nosrc.rpm is a .nosrc.rpm: it does not carry fortune-mini-1.10.tar.gz") {
		t.Errorf("build: %v, want the source it lacks named", err)
	}
}
