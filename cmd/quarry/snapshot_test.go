package main_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// snapshot maps every entry under dir to its content's sha256, a link to
// "-> target" and a folder to "dir", so that a tree can be compared byte
// for byte.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			out[rel] = "-> " + target
			return err
		case e.IsDir():
			out[rel] = "dir"
			return nil
		}
		data, err := os.ReadFile(p)
		sum := sha256.Sum256(data)
		out[rel] = hex.EncodeToString(sum[:])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// treeDigests maps every file under dir (folders aside) to its sha256.
func treeDigests(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := snapshot(t, dir)
	for p, v := range out {
		if v == "dir" {
			delete(out, p)
		}
	}
	return out
}

// published is what a run that fails must leave as it was: where
// out/current points, everything under it, and quarry.lock.
type published struct {
	target string
	files  map[string]string
	lock   []byte
}

func (d *distro) published() published {
	d.t.Helper()
	target, err := os.Readlink(filepath.Join(d.out(), "current"))
	if err != nil {
		d.t.Fatal(err)
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(d.out(), target)
	}
	return published{target, snapshot(d.t, target), d.readLock()}
}

// same reports whatever moved since p: out/current's target, each entry
// that changed, appeared or went, and the lock.
func (p published) same(t *testing.T, d *distro, after string) {
	t.Helper()
	now := d.published()
	if now.target != p.target {
		t.Errorf("after %s: out/current points at %s, was %s", after, now.target, p.target)
	}
	p.sameContent(t, d, after)
}

// sameContent is same for a run that may publish a new compose, as long
// as it holds exactly the same bytes.
func (p published) sameContent(t *testing.T, d *distro, after string) {
	t.Helper()
	now := d.published()
	for f, sum := range p.files {
		if now.files[f] != sum {
			t.Errorf("after %s: out/current/%s changed", after, f)
		}
	}
	for f := range now.files {
		if _, ok := p.files[f]; !ok {
			t.Errorf("after %s: out/current/%s appeared", after, f)
		}
	}
	if !bytes.Equal(now.lock, p.lock) {
		t.Errorf("after %s: quarry.lock changed", after)
	}
}
