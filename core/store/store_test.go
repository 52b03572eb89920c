package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBlobsRoundTripAndCorruptionIsCaught(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Put([]byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Put([]byte("hello")); again != d || !s.Has(d) {
		t.Fatalf("second Put = %s, Has = %v", again, s.Has(d))
	}
	if data, err := s.Get(d); err != nil || string(data) != "hello" {
		t.Fatalf("Get = %q, %v", data, err)
	}
	if _, err := s.Get(Digest([]byte("absent"))); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of an absent blob: %v", err)
	}
	if _, err := s.Get("../../etc/passwd"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a path: %v", err)
	}
	os.Chmod(s.Path(d), 0o644)
	os.WriteFile(s.Path(d), []byte("jello"), 0o644)
	if _, err := s.Get(d); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("Get of a changed blob: %v", err)
	}
}

func TestTreesAreCanonical(t *testing.T) {
	s, _ := Open(t.TempDir())
	a := Tree{"SPECS/x.spec": {Data: []byte("spec")}, "SOURCES/run.sh": {Data: []byte("#!"), Exec: true},
		"SOURCES/x.tar.gz": {Data: []byte("tar"), Lookaside: true}}
	d, err := s.PutTree(a)
	if err != nil {
		t.Fatal(err)
	}
	if d != TreeDigest(a.Clone()) {
		t.Error("a tree's digest depends on more than its files")
	}
	b, err := s.GetTree(d)
	if err != nil {
		t.Fatal(err)
	}
	if TreeDigest(b) != d || !b["SOURCES/run.sh"].Exec || !b["SOURCES/x.tar.gz"].Lookaside {
		t.Errorf("tree read back as %v", b.Paths())
	}
	a["SOURCES/run.sh"].Exec = false
	if TreeDigest(a) == d {
		t.Error("the exec bit is not part of the digest")
	}
	if !s.HasTree(d) || s.HasTree(Digest([]byte("nothing"))) {
		t.Error("HasTree")
	}
}

func TestCleanPathRefusesEscapes(t *testing.T) {
	for _, p := range []string{"../x", "/etc/passwd", "a/../../b", ""} {
		if _, err := CleanPath(p); err == nil {
			t.Errorf("CleanPath(%q) accepted", p)
		}
	}
	if p, err := CleanPath("SOURCES/./a.patch"); err != nil || p != "SOURCES/a.patch" {
		t.Errorf("CleanPath = %q, %v", p, err)
	}
}

// A tree with a path that climbs out is never written, whoever built it.
func TestWriteToRefusesEscapes(t *testing.T) {
	dir := t.TempDir()
	box := filepath.Join(dir, "box")
	for _, p := range []string{"../escaped", "SOURCES/../../escaped", "/abs", "SOURCES//x", "./x"} {
		tree := Tree{"SPECS/a.spec": {Data: []byte("x")}, p: {Data: []byte("x")}}
		if err := tree.WriteTo(box); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: %v, want it refused by name", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "escaped")); err == nil {
		t.Error("a file was written outside the folder")
	}
	if err := (Tree{"SPECS/a.spec": {Data: []byte("x")}, "SOURCES/b": {Data: []byte("y"), Exec: true}}).WriteTo(box); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(box, "SOURCES", "b")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("SOURCES/b: %v %v", st, err)
	}
}

// A tree's spec is the one file under SPECS/, whatever its name, or the
// one .spec file there among others.
func TestTreeSpec(t *testing.T) {
	f := &File{}
	for _, c := range []struct {
		tree Tree
		want string
	}{
		{Tree{"SPECS/foo._spec": f, "SOURCES/other.spec": f}, "SPECS/foo._spec"},
		{Tree{"SPECS/foo.spec": f, "SPECS/README": f}, "SPECS/foo.spec"},
		{Tree{"SPECS/a.spec": f, "SPECS/b.spec": f}, ""},
		{Tree{"SPECS/x/a.spec": f, "SOURCES/a.spec": f}, ""},
	} {
		got, err := c.tree.Spec()
		if got != c.want || (c.want == "") != (err != nil) {
			t.Errorf("%v: spec %q, %v; want %q", c.tree.Paths(), got, err, c.want)
		}
	}
}
