package debrand

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"google.golang.org/protobuf/encoding/prototext"

	"github.com/quarrylinux/quarry/core/store"
	pb "github.com/quarrylinux/quarry/proto/srpmproc"
)

const specText = `Name:           hello
Version:        1.0
Release:        1%{?dist}
Summary:        Hello from Summit
License:        MIT
Source0:        hello-1.0.tar.gz
Source1:        summit.conf
Patch0:         fix.patch

%description
Hello from Summit Enterprise Linux.

%prep
%setup -q
%patch -P 0 -p1

%build
make

%files
/usr/bin/hello

%changelog
* Mon Jan 01 2024 Upstream <up@summit.example> - 1.0-1
- First
`

func newContext(patches fstest.MapFS) *Context {
	return &Context{
		Package: "hello",
		Tree: store.Tree{
			"SPECS/hello.spec":         {Data: []byte(specText)},
			"SOURCES/hello-1.0.tar.gz": {Data: []byte("tarball"), Lookaside: true},
			"SOURCES/summit.conf":      {Data: []byte("brand=summit\n")},
			"SOURCES/fix.patch":        {Data: []byte("patch\n")},
		},
		Patches: patches,
		Date:    time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
		EVR:     func(store.Tree, string) (string, error) { return "1.0-1.pebble", nil },
		Lookaside: func(h string) ([]byte, error) {
			if h == strings.Repeat("a", 64) {
				return []byte("from lookaside"), nil
			}
			return nil, errors.New("no such object")
		},
	}
}

func run(t *testing.T, c *Context, cfgText string) Errors {
	t.Helper()
	cfg := &pb.Cfg{}
	if err := prototext.Unmarshal([]byte(cfgText), cfg); err != nil {
		t.Fatal(err)
	}
	return Apply(c, []File{{Branch: "main", Path: "ROCKY/CFG/x.cfg", Cfg: cfg}})
}

func specOf(c *Context) string { return string(c.Tree["SPECS/hello.spec"].Data) }

func TestReplaceDeleteAdd(t *testing.T) {
	c := newContext(fstest.MapFS{"ROCKY/SOURCES/pebble.conf": {Data: []byte("brand=pebble\n")}, "ROCKY/SOURCES/run.sh": {Data: []byte("#!/bin/sh\n"), Mode: 0o755}})
	errs := run(t, c, `
replace { file: "summit.conf" with_file: "ROCKY/SOURCES/pebble.conf" }
replace { file: "SOURCES/fix.patch" with_inline: "inline\n" }
replace { file: "hello-1.0.tar.gz" with_lookaside: "`+strings.Repeat("a", 64)+`" }
delete { file: "SOURCES/fix.patch" }
add { file: "ROCKY/SOURCES/pebble.conf" name: "extra.conf" }
add { file: "ROCKY/SOURCES/run.sh" }
add { lookaside: "`+strings.Repeat("a", 64)+`" name: "blob.bin" }`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := string(c.Tree["SOURCES/summit.conf"].Data); got != "brand=pebble\n" {
		t.Errorf("replace with_file: %q", got)
	}
	if f := c.Tree["SOURCES/hello-1.0.tar.gz"]; string(f.Data) != "from lookaside" || !f.Lookaside {
		t.Errorf("replace with_lookaside: %q lookaside=%v", f.Data, f.Lookaside)
	}
	if _, ok := c.Tree["SOURCES/fix.patch"]; ok {
		t.Error("delete left the file")
	}
	if string(c.Tree["SOURCES/extra.conf"].Data) != "brand=pebble\n" || !c.Tree["SOURCES/run.sh"].Exec || !c.Tree["SOURCES/blob.bin"].Lookaside {
		t.Error("add did not place files as asked")
	}
}

func TestErrorsAreCollectedAndNamed(t *testing.T) {
	c := newContext(fstest.MapFS{})
	errs := run(t, c, `
replace { file: "missing.conf" with_inline: "x" }
delete { file: "SOURCES/nope" }
add { file: "ROCKY/none" }
patch { file: "ROCKY/none.patch" }
spec_change {
  search_and_replace { any: true find: "Absent" replace: "x" n: -1 }
  search_and_replace { any: true find: "Summit" replace: "x" n: 0 }
}`)
	want := []string{
		"ROCKY/CFG/x.cfg (branch main): replace[0] missing.conf: SOURCES/missing.conf does not exist",
		"delete[0] SOURCES/nope: SOURCES/nope does not exist",
		"add[0] ROCKY/none: ROCKY/none is not in the patch repository",
		"patch[0] ROCKY/none.patch",
		`spec_change.search_and_replace[0]: "Absent" matches nothing`,
		"spec_change.search_and_replace[1]: n is 0",
	}
	all := errs.Error()
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("missing error %q in:\n%s", w, all)
		}
	}
	if !strings.HasPrefix(all, "debrand hello: ") {
		t.Errorf("errors do not name the package: %s", all)
	}
}

func TestPatchDirective(t *testing.T) {
	diff := `diff --git a/SPECS/hello.spec b/SPECS/hello.spec
--- a/SPECS/hello.spec
+++ b/SPECS/hello.spec
@@ -1,4 +1,4 @@
 Name:           hello
 Version:        1.0
-Release:        1%{?dist}
+Release:        1%{?dist}.pebble
 Summary:        Hello from Summit
diff --git a/summit.conf b/summit.conf
--- a/summit.conf
+++ b/summit.conf
@@ -1 +1 @@
-brand=summit
+brand=pebble
`
	c := newContext(fstest.MapFS{"p.patch": {Data: []byte(diff)}})
	if errs := run(t, c, `patch { file: "p.patch" }`); len(errs) > 0 {
		t.Fatal(errs)
	}
	if !strings.Contains(specOf(c), "Release:        1%{?dist}.pebble") || string(c.Tree["SOURCES/summit.conf"].Data) != "brand=pebble\n" {
		t.Errorf("patch not applied:\n%s", specOf(c))
	}
	// strict: the second file's path is taken as written and does not exist.
	c = newContext(fstest.MapFS{"p.patch": {Data: []byte(diff)}})
	errs := run(t, c, `patch { file: "p.patch" strict: true }`)
	if len(errs) != 1 || !strings.Contains(errs.Error(), "summit.conf does not exist") {
		t.Fatalf("strict patch: %v", errs)
	}
	if strings.Contains(specOf(c), ".pebble") {
		t.Error("a failed patch changed the tree")
	}
}

func TestLookasideDirective(t *testing.T) {
	c := newContext(fstest.MapFS{"art/logo.svg": {Data: []byte("<svg/>")}})
	errs := run(t, c, `
lookaside { file: "summit.conf" }
lookaside { file: "art/logo.svg" tar: true archive_name: "art" from_patch_tree: true }
lookaside { file: "x" tar: true }`)
	if len(errs) != 1 || !strings.Contains(errs.Error(), "lookaside[2]: tar needs archive_name") {
		t.Fatalf("errors: %v", errs)
	}
	if !c.Tree["SOURCES/summit.conf"].Lookaside || !c.Tree["SOURCES/art.tar.gz"].Lookaside {
		t.Error("files not moved to the lookaside")
	}
	again := newContext(fstest.MapFS{"art/logo.svg": {Data: []byte("<svg/>")}})
	run(t, again, `lookaside { file: "art/logo.svg" tar: true archive_name: "art" from_patch_tree: true }`)
	if store.Digest(again.Tree["SOURCES/art.tar.gz"].Data) != store.Digest(c.Tree["SOURCES/art.tar.gz"].Data) {
		t.Error("lookaside archives are not reproducible")
	}
}

func TestSpecChange(t *testing.T) {
	c := newContext(fstest.MapFS{})
	errs := run(t, c, `spec_change {
  file { name: "summit.conf" type: Source delete: true }
  file { name: "pebble.conf" type: Source add: true }
  file { name: "fix.patch" type: Patch delete: true }
  file { name: "pebble.patch" type: Patch add: true add_to_prep: true n_path: 1 }
  search_and_replace { field: "Summary" find: "Summit" replace: "Pebble" n: 1 }
  search_and_replace { starts_with: true find: "Hello from" replace: "Greetings from" n: 1 }
  search_and_replace { ends_with: true find: "Enterprise Linux." replace: "Linux." n: 1 }
  append { field: "Release" value: ".pebble" }
  append { field: "%build" value: "make check" }
  new_field { key: "Provides" value: "summit-hello = 1.0" }
  new_field { key: "Provides" value: "hello-branding" }
  changelog { author_name: "Pebble" author_email: "releng@pebble.example" message: "Debrand" message: "Rebuild" }
}`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := specOf(c)
	for _, want := range []string{
		"Summary:        Hello from Pebble",
		"Release:        1%{?dist}.pebble\n",
		"Source0:        hello-1.0.tar.gz\nSource1:        pebble.conf\n",
		"Patch0:         pebble.patch\nProvides:       summit-hello = 1.0\nProvides:       hello-branding\n",
		"Greetings from Summit Linux.",
		"%setup -q\n%patch -P 0 -p1\n\n%build\nmake\nmake check\n",
		"%changelog\n* Sat Jun 01 2024 Pebble <releng@pebble.example> - 1.0-1.pebble\n- Debrand\n- Rebuild\n\n* Mon Jan 01 2024",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("spec lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "summit.conf") || strings.Contains(got, "fix.patch") {
		t.Errorf("deleted files still named:\n%s", got)
	}
}

func TestSpecChangeFailures(t *testing.T) {
	c := newContext(fstest.MapFS{})
	errs := run(t, c, `spec_change {
  file { name: "absent.tar" type: Source delete: true }
  append { field: "Epoch" value: "1" }
  append { field: "%check" value: "make test" }
  new_field { key: "Source9" value: "x" }
  search_and_replace { field: "Vendor" find: "a" replace: "b" n: -1 }
}`)
	for _, want := range []string{"no Source line names absent.tar", "no Epoch field", "no %check section", "use a file operation", `"a" matches nothing`} {
		if !strings.Contains(errs.Error(), want) {
			t.Errorf("missing %q in %v", want, errs)
		}
	}
}

func TestLoadPrefersPatchesFolder(t *testing.T) {
	repo := fstest.MapFS{
		"PATCHES/b.cfg":   {Data: []byte(`delete { file: "SOURCES/x" }`)},
		"PATCHES/a.cfg":   {Data: []byte(`add { file: "y" }`)},
		"PATCHES/notes":   {Data: []byte("not a directive")},
		"ROCKY/CFG/z.cfg": {Data: []byte(`delete { file: "z" }`)},
	}
	files, errs := Load(repo, "main")
	if len(errs) > 0 || len(files) != 2 || files[0].Path != "PATCHES/a.cfg" {
		t.Fatalf("files=%v errs=%v", files, errs)
	}
	_, errs = Load(fstest.MapFS{"ROCKY/CFG/bad.cfg": {Data: []byte("replace { nonsense: 1 }")}}, "r9")
	if len(errs) != 1 || !strings.Contains(errs.Error(), "ROCKY/CFG/bad.cfg (branch r9): cannot read directives") {
		t.Fatalf("bad cfg: %v", errs)
	}
}
