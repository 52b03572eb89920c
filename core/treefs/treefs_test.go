package treefs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
)

// tree makes a folder with a file, a nested file, symlinks out of it (at
// the leaf and in the middle of a path), one that stays inside, and a
// FIFO; outside it, a secret.
func tree(t *testing.T) (dir, secret string) {
	t.Helper()
	base := t.TempDir()
	dir = filepath.Join(base, "tree")
	secret = filepath.Join(base, "secret")
	for _, d := range []string{"a/b", "real"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(secret, []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(dir, "top"), []byte("top"), 0o644)
	os.WriteFile(filepath.Join(dir, "a/b/leaf"), []byte("leaf"), 0o644)
	os.WriteFile(filepath.Join(dir, "real/f"), []byte("f"), 0o644)
	os.Symlink(secret, filepath.Join(dir, "out"))
	os.Symlink(filepath.Dir(secret), filepath.Join(dir, "a/up"))
	os.Symlink("real", filepath.Join(dir, "in"))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, secret
}

func TestOpenStaysInside(t *testing.T) {
	for _, fallback := range []bool{false, true} {
		t.Run(map[bool]string{false: "openat2", true: "openat"}[fallback], func(t *testing.T) {
			noOpenat2 = fallback
			defer func() { noOpenat2 = false }()
			dir, _ := tree(t)
			tr, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			for name, want := range map[string]string{"top": "top", "a/b/leaf": "leaf", "real/f": "f"} {
				if got, err := tr.ReadFile(name); err != nil || string(got) != want {
					t.Errorf("%s: %q %v", name, got, err)
				}
			}
			for name, want := range map[string]error{
				"../secret": ErrOutside, "/etc/passwd": ErrOutside, "a/../top": ErrOutside, "a//b/leaf": ErrOutside,
				"./top": ErrOutside, "": ErrOutside, "a\\b": ErrOutside,
				"out": ErrSymlink, "a/up/secret": ErrSymlink, "in/f": ErrSymlink, "in": ErrSymlink,
				"fifo": ErrNotRegular, // and it did not block waiting for a writer
				"a":    ErrNotRegular, // ReadFile of a folder
			} {
				_, err := tr.ReadFile(name)
				var pe *fs.PathError
				if !errors.Is(err, want) || !errors.As(err, &pe) || pe.Path != name {
					t.Errorf("ReadFile(%q): %v, want %v naming the path", name, err, want)
				}
			}
			if _, err := tr.ReadFile("nope"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a missing file: %v", err)
			}
		})
	}
}

func TestOpenResolvesTheTopOnce(t *testing.T) {
	dir, _ := tree(t)
	link := filepath.Join(t.TempDir(), "current")
	os.Symlink(dir, link)
	tr, err := Open(link)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if real, _ := filepath.EvalSymlinks(dir); tr.Dir() != real {
		t.Errorf("Dir() = %s, want %s", tr.Dir(), real)
	}
	// Pointing the link elsewhere does not change the open tree.
	os.Remove(link)
	os.Symlink(t.TempDir(), link)
	if got, err := tr.ReadFile("top"); err != nil || string(got) != "top" {
		t.Errorf("after the switch: %q %v", got, err)
	}
}

func TestWalkReportsWithoutFollowing(t *testing.T) {
	dir, secret := tree(t)
	tr, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var got []string
	err = tr.Walk(func(e Entry) error {
		got = append(got, e.Path+" "+e.Kind())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a a folder", "a/b a folder", "a/b/leaf a regular file", "a/up a symlink to " + filepath.Dir(secret),
		"fifo a FIFO", "in a symlink to real", "out a symlink to " + secret, "real a folder", "real/f a regular file", "top a regular file"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("walk:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The tree is an fs.FS: the standard checks pass on a tree of regular
// files.
func TestFS(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "x/y"), 0o755)
	os.WriteFile(filepath.Join(dir, "x/y/z"), []byte("z"), 0o644)
	os.WriteFile(filepath.Join(dir, "w"), []byte("w"), 0o644)
	tr, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := fstest.TestFS(tr, "w", "x/y/z"); err != nil {
		t.Error(err)
	}
}
