package compose

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/testing/fixtures"
)

// TestUpdateEqualsAFullIndex: after packages change, go and come, an
// --update (which recompresses only the spans with a change and appends
// to its cache) writes the bytes a full index of the same folder writes;
// and a cache torn at its end only costs re-reading what it lost.
func TestUpdateEqualsAFullIndex(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	put := func(name string, buildTime uint32, mtime time.Time) {
		path := filepath.Join(dir, name+"-1.0-1.x86_64.rpm")
		must(t, os.WriteFile(path, fixtures.SyntheticRPM(name, "1.0", "1", buildTime), 0o644))
		must(t, os.Chtimes(path, mtime, mtime))
	}
	t0 := time.Unix(1700000000, 0)
	for i := 0; i < 1500; i++ { // several spans of every kind
		put(fmt.Sprintf("pkg%04d", i), 1700000000, t0)
	}
	index := func(cacheDir string, update bool) *DirResult {
		res, err := IndexDir(dir, DirOptions{CacheDir: cacheDir, Update: update})
		must(t, err)
		return res
	}
	index(cache, true)

	put("pkg0700", 1700000500, t0.Add(time.Hour)) // changed
	must(t, os.Remove(filepath.Join(dir, "pkg0042-1.0-1.x86_64.rpm")))
	put("new0001", 1700000600, t0)
	up := index(cache, true)
	if up.Read != 2 || up.Packages != 1500 {
		t.Fatalf("update read %d of %d packages, want 2 of 1500", up.Read, up.Packages)
	}
	full := index(t.TempDir(), false)
	if string(up.Repomd) != string(full.Repomd) {
		t.Fatalf("the update's repomd.xml differs from a full index's:\n%s\n%s", up.Repomd, full.Repomd)
	}

	// The update appended to the cache; tear its last record.
	files, _ := filepath.Glob(filepath.Join(cache, "*.index"))
	if len(files) != 1 {
		t.Fatalf("%d cache files", len(files))
	}
	st, _ := os.Stat(files[0])
	must(t, os.Truncate(files[0], st.Size()-10))
	put("pkg0701", 1700000700, t0.Add(time.Hour))
	again := index(cache, true)
	if again.Read < 1 || again.Read > 3 {
		t.Errorf("after a torn cache the update read %d packages, want the changed one and what the torn record held", again.Read)
	}
	if string(again.Repomd) != string(index(t.TempDir(), false).Repomd) {
		t.Fatal("after a torn cache the update differs from a full index")
	}
	if n := index(cache, true).Read; n != 0 {
		t.Errorf("an unchanged update read %d packages", n)
	}
}

// TestUpdateSeesASameSecondRewrite: a package rewritten with new bytes of
// the same size, its mtime set back to the same second, is read again
// (createrepo_c --update keeps the old entry).
func TestUpdateSeesASameSecondRewrite(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "same-1.0-1.x86_64.rpm")
	t0 := time.Unix(1700000000, 0)
	first := fixtures.SyntheticRPM("same", "1.0", "1", 1700000000)
	var second []byte
	built := 1700000001
	for ; built < 1700000100; built++ { // a build whose payload compresses to the same size
		if second = fixtures.SyntheticRPM("same", "1.0", "1", uint32(built)); len(second) == len(first) {
			break
		}
	}
	if len(second) != len(first) {
		t.Fatal("no rebuild of the same size")
	}
	must(t, os.WriteFile(path, first, 0o644))
	must(t, os.Chtimes(path, t0, t0))
	_, err := IndexDir(dir, DirOptions{CacheDir: cache, Update: true})
	must(t, err)
	must(t, os.WriteFile(path, second, 0o644))
	must(t, os.Chtimes(path, t0, t0))
	res, err := IndexDir(dir, DirOptions{CacheDir: cache, Update: true})
	must(t, err)
	if res.Read != 1 || !strings.Contains(string(readMD(t, dir, "primary")), fmt.Sprintf(`build="%d"`, built)) {
		t.Fatalf("the rewrite was not read again: read %d", res.Read)
	}
}
