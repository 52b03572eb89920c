package compose

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/testing/fixtures"
)

// The folders real users index hold more than the core's own builds: two
// files of one NEVRA, symlinks, RPM v3 packages, Latin-1 text, broken
// files. Each test builds its fixture with rpmbuild and indexes it with
// createrepo_c and with Quarry in the same run.

var kinds = []string{"primary", "filelists", "other"}

// indexed is one writer's repodata: per kind, the canonical lines of each
// package by pkgid.
type indexed map[string]map[string][]string

// indexBoth indexes a copy of dir (links kept as links) with createrepo_c
// and another with IndexDir.
func indexBoth(t *testing.T, dir string, crArgs []string, opts DirOptions) (cr, q indexed, res *DirResult) {
	t.Helper()
	theirs, ours := filepath.Join(t.TempDir(), "cr"), filepath.Join(t.TempDir(), "quarry")
	for _, d := range []string{theirs, ours} {
		if out, err := exec.Command("cp", "-a", dir, d).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v\n%s", err, out)
		}
	}
	args := append([]string{"--no-database", "--workers", "2"}, crArgs...)
	if out, err := exec.Command("createrepo_c", append(args, theirs)...).CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c: %v\n%s", err, out)
	}
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	res, err := IndexDir(ours, opts)
	if err != nil {
		t.Fatal(err)
	}
	cr, q = indexed{}, indexed{}
	for _, k := range kinds {
		cr[k], q[k] = canonical(t, readMD(t, theirs, k)), canonical(t, readMD(t, ours, k))
	}
	return cr, q, res
}

// same reports every package entry that differs between the writers.
func same(t *testing.T, cr, q indexed) {
	t.Helper()
	for _, k := range kinds {
		if len(q[k]) != len(cr[k]) {
			t.Errorf("%s: Quarry has %d packages, createrepo_c %d", k, len(q[k]), len(cr[k]))
		}
		for id, w := range cr[k] {
			if d := lineDiff(w, q[k][id]); d != "" {
				t.Errorf("%s, package %s differs from createrepo_c (-createrepo_c +quarry):\n%s", k, id[:12], d)
			}
		}
	}
}

// build makes the RPMs of a small noarch spec with extra preamble lines,
// description and %install, and returns their paths.
func build(t *testing.T, name, preamble, description string, defines ...string) string {
	t.Helper()
	if !strings.Contains(preamble, "Summary:") {
		preamble += "\nSummary: " + name + " package"
	}
	spec := fmt.Sprintf("Name: %s\nVersion: 1.0\nRelease: 1\nLicense: MIT\nBuildArch: noarch\n%s\n"+
		"%%description\n%s\n%%install\nmkdir -p %%{buildroot}/usr/share/%s/sub\necho %s > %%{buildroot}/usr/share/%s/sub/file\n"+
		"%%files\n/usr/share/%s\n%%changelog\n* Mon Jan 01 2024 Packager <p@example.org> - 1.0-1\n- first\n",
		name, preamble, description, name, name, name, name)
	rpms, err := fixtures.BuildSpec(t.TempDir(), name, spec, defines...)
	if err != nil {
		t.Fatal(err)
	}
	return rpms[0]
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDuplicateNEVRA: two different files of one NEVRA are both indexed,
// as createrepo_c indexes them, and reported.
func TestDuplicateNEVRA(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, build(t, "twin", "", "One build.", "_buildhost host-a"), filepath.Join(dir, "a", "twin-1.0-1.noarch.rpm"))
	copyFile(t, build(t, "twin", "", "One build.", "_buildhost host-b"), filepath.Join(dir, "b", "twin-1.0-1.noarch.rpm"))
	copyFile(t, build(t, "single", "", "Alone."), filepath.Join(dir, "single-1.0-1.noarch.rpm"))

	cr, q, res := indexBoth(t, dir, nil, DirOptions{})
	same(t, cr, q)
	if res.Packages != 3 || len(q["primary"]) != 3 {
		t.Fatalf("indexed %d packages, want 3 (both twins)", res.Packages)
	}
	want := []string{"a/twin-1.0-1.noarch.rpm", "b/twin-1.0-1.noarch.rpm"}
	if got := res.Duplicates["twin-0:1.0-1.noarch"]; strings.Join(got, " ") != strings.Join(want, " ") || len(res.Duplicates) != 1 {
		t.Errorf("duplicates reported: %v, want twin in %v", res.Duplicates, want)
	}

}

// TestSymlinkedRPMs: RPMs reached through links, to files and to folders,
// are indexed at the link's place as createrepo_c indexes them; a loop is
// walked once; --skip-symlinks leaves them out; a dangling link is named.
func TestSymlinkedRPMs(t *testing.T) {
	pool := t.TempDir()
	for _, n := range []string{"linked", "deep"} {
		copyFile(t, build(t, n, "", "Reached through a link."), filepath.Join(pool, n, n+"-1.0-1.noarch.rpm"))
	}
	dir := t.TempDir()
	copyFile(t, build(t, "plain", "", "A plain file."), filepath.Join(dir, "plain-1.0-1.noarch.rpm"))
	must(t, os.Symlink(filepath.Join(pool, "linked", "linked-1.0-1.noarch.rpm"), filepath.Join(dir, "linked-1.0-1.noarch.rpm")))
	must(t, os.Symlink(filepath.Join(pool, "deep"), filepath.Join(dir, "deep")))

	cr, q, res := indexBoth(t, dir, nil, DirOptions{})
	same(t, cr, q)
	if res.Packages != 3 {
		t.Errorf("indexed %d packages through links, want 3", res.Packages)
	}
	primary := strings.Join(flatten(q["primary"]), "\n")
	for _, href := range []string{"href=linked-1.0-1.noarch.rpm", "href=deep/deep-1.0-1.noarch.rpm"} {
		if !strings.Contains(primary, href) {
			t.Errorf("primary.xml has no %s", href)
		}
	}

	// createrepo_c would walk a loop until the path is too long: Quarry
	// only, which reads the folder once.
	must(t, os.Symlink(".", filepath.Join(dir, "loop")))
	if res, err := IndexDir(dir, DirOptions{CacheDir: t.TempDir()}); err != nil || res.Packages != 3 {
		t.Errorf("with a link loop: %v, %+v", err, res)
	}
	must(t, os.Remove(filepath.Join(dir, "loop")))

	cr, q, res = indexBoth(t, dir, []string{"--skip-symlinks"}, DirOptions{SkipSymlinks: true})
	// createrepo_c's --skip-symlinks still walks into linked folders;
	// Quarry's skips those too (README).
	delete(cr["primary"], pkgidOf(t, cr["primary"], "deep"))
	delete(cr["filelists"], pkgidOf(t, cr["filelists"], "deep"))
	delete(cr["other"], pkgidOf(t, cr["other"], "deep"))
	same(t, cr, q)
	if res.Packages != 1 {
		t.Errorf("--skip-symlinks indexed %d packages, want 1", res.Packages)
	}

	must(t, os.Symlink(filepath.Join(pool, "gone.rpm"), filepath.Join(dir, "gone-1.0-1.noarch.rpm")))
	_, err := IndexDir(dir, DirOptions{CacheDir: t.TempDir()})
	var bad *BadPackagesError
	if !errors.As(err, &bad) || len(bad.Bad) != 1 || bad.Bad[0].Href != "gone-1.0-1.noarch.rpm" || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("dangling link: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func flatten(m map[string][]string) []string {
	var out []string
	for _, lines := range m {
		out = append(out, lines...)
	}
	sort.Strings(out)
	return out
}

// pkgidOf finds the package named name among canonical entries.
func pkgidOf(t *testing.T, m map[string][]string, name string) string {
	t.Helper()
	for id, lines := range m {
		for _, l := range lines {
			if strings.HasSuffix(l, "package/name text="+name) || strings.Contains(l, " name="+name+" ") {
				return id
			}
		}
	}
	t.Fatalf("no package %s", name)
	return ""
}

// TestOldLayoutRPM: an RPM v3 package lists its files in OLDFILENAMES;
// its file list is read as createrepo_c (through rpm) reads it, with and
// without header regions; without one (rpm 3), the package provides its
// own name as rpm makes it.
func TestOldLayoutRPM(t *testing.T) {
	data, err := os.ReadFile(build(t, "oldstyle", "Requires: /usr/share/oldstyle/sub/file", "Old header layout."))
	must(t, err)
	dir := t.TempDir()
	for _, region := range []bool{true, false} {
		old, err := fixtures.OldLayout(data, region)
		must(t, err)
		name := fmt.Sprintf("r%v/oldstyle-1.0-1.noarch.rpm", region)
		must(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, name), old, 0o644))
		out, err := exec.Command("rpm", "-qp", "--qf", "[%{FILENAMES}\n]", filepath.Join(dir, name)).Output()
		if err != nil || !strings.Contains(string(out), "/usr/share/oldstyle/sub/file") {
			t.Fatalf("rpm does not read the fixture's files: %v %s", err, out)
		}
	}
	cr, q, res := indexBoth(t, dir, nil, DirOptions{})
	same(t, cr, q)
	if res.Packages != 2 {
		t.Fatalf("indexed %d, want 2", res.Packages)
	}
	files := strings.Join(flatten(q["filelists"]), "\n")
	if strings.Count(files, "text=/usr/share/oldstyle/sub/file") != 2 {
		t.Errorf("filelists.xml lacks the v3 packages' files:\n%s", files)
	}
	provides := strings.Join(flatten(q["primary"]), "\n")
	if n := strings.Count(provides, "provides/entry epoch=0 flags=EQ name=oldstyle rel=1 ver=1.0"); n != 2 {
		t.Errorf("the self-provide is there %d times, want once per package:\n%s", n, provides)
	}
}

// TestNonUTF8Text: header text that is not UTF-8 is read as Windows-1252.
// Where createrepo_c agrees (Latin-1 letters) the entries are equal; the
// bytes 0x80-0xBF that createrepo_c drops Quarry keeps, as the README says.
func TestNonUTF8Text(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, build(t, "latin", "URL: https://example.org/caf\xe9",
		"Z\xfcrich, \xa9 1999, 20 \xb0C, \x93quoted\x94 \x81.", "_invalid_encoding_terminates_build 0"),
		filepath.Join(dir, "latin-1.0-1.noarch.rpm"))
	cr, q, _ := indexBoth(t, dir, nil, DirOptions{})
	id := pkgidOf(t, q["primary"], "latin")
	// The URL's é (0xE9) reads the same in both.
	for _, l := range []string{"metadata/package/url text=https://example.org/café"} {
		if !contains(q["primary"][id], l) || !contains(cr["primary"][id], l) {
			t.Errorf("both should have %q:\nquarry %v\ncreaterepo_c %v", l, q["primary"][id], cr["primary"][id])
		}
	}
	const desc = "metadata/package/description text="
	for who, m := range map[string]indexed{"quarry": q, "createrepo_c": cr} {
		want := map[string]string{"quarry": "Zürich, © 1999, 20 °C, “quoted” .", "createrepo_c": "Zürich,  1999, 20 C, quoted ."}[who]
		if !contains(m["primary"][id], desc+want) {
			t.Errorf("%s's description is not %q: %v", who, want, m["primary"][id])
		}
	}
	// Everything else is the same.
	for _, k := range kinds {
		drop := func(lines []string) []string {
			var out []string
			for _, l := range lines {
				if !strings.HasPrefix(l, desc) {
					out = append(out, l)
				}
			}
			return out
		}
		if d := lineDiff(drop(cr[k][id]), drop(q[k][id])); d != "" {
			t.Errorf("%s differs beyond the description:\n%s", k, d)
		}
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// TestBadRPMs: an RPM createrepo_c would leave out (not an RPM, truncated,
// control characters in its text, a link to itself) fails the index,
// naming each, and leaves the repodata as it was; with SkipBad the others
// are indexed, and the package set is createrepo_c's.
func TestBadRPMs(t *testing.T) {
	dir := t.TempDir()
	good := build(t, "good", "", "Fine.")
	copyFile(t, good, filepath.Join(dir, "good-1.0-1.noarch.rpm"))
	if _, err := IndexDir(dir, DirOptions{CacheDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	before := readMD(t, dir, "primary")

	copyFile(t, build(t, "bell", "Summary: Rings\x07 a bell", "Rings a bell."), filepath.Join(dir, "bell-1.0-1.noarch.rpm"))
	must(t, os.WriteFile(filepath.Join(dir, "junk.rpm"), []byte("not an rpm\n"), 0o644))
	data, _ := os.ReadFile(good)
	must(t, os.WriteFile(filepath.Join(dir, "cut-1-1.noarch.rpm"), data[:len(data)-100], 0o644))
	must(t, os.Symlink("self.rpm", filepath.Join(dir, "self.rpm")))

	_, err := IndexDir(dir, DirOptions{CacheDir: t.TempDir()})
	var bad *BadPackagesError
	if !errors.As(err, &bad) {
		t.Fatalf("got %v, want a BadPackagesError", err)
	}
	var hrefs []string
	for _, b := range bad.Bad {
		hrefs = append(hrefs, b.Href)
	}
	if got := strings.Join(hrefs, " "); got != "bell-1.0-1.noarch.rpm cut-1-1.noarch.rpm junk.rpm self.rpm" {
		t.Errorf("bad packages named: %s", got)
	}
	var ctl *ControlCharError
	if !errors.As(err, &ctl) || ctl.Field != "summary" {
		t.Errorf("the bell package's error: %v", err)
	}
	for _, s := range []string{"not an RPM", "size mismatch", "too many levels of symbolic links"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("the error does not say %q:\n%v", s, err)
		}
	}
	if got := readMD(t, dir, "primary"); string(got) != string(before) {
		t.Error("a failed index changed the repodata")
	}

	// createrepo_c reads only the header: it indexes the RPM cut short
	// in its payload, which Quarry refuses (README). Compare without it.
	must(t, os.Remove(filepath.Join(dir, "cut-1-1.noarch.rpm")))
	cr, q, res := indexBoth(t, dir, nil, DirOptions{SkipBad: true})
	same(t, cr, q)
	if res.Packages != 1 || len(res.Skipped) != 3 {
		t.Errorf("with SkipBad: %d packages, %d skipped; want 1 and 3", res.Packages, len(res.Skipped))
	}

	// The core's compose indexes the bell package without its bell.
	idx := &Index{Entries: map[string]*Entry{}, Lenient: true}
	up := idx.Update([]Input{{Href: "bell.rpm", Path: filepath.Join(dir, "bell-1.0-1.noarch.rpm"), MTime: -1}})
	if err := up.Err(); err != nil || len(up.Entries) != 1 || !strings.Contains(up.Entries[0].Primary, "<summary>Rings a bell</summary>") {
		t.Errorf("lenient: %v %v", err, up.Entries)
	}
}
