package source_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/core/source"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// FuzzReadSRPM imports any bytes as an SRPM, as they are and with their
// digests recomputed: it fails naming the file, or gives a named package
// whose tree is one spec under SPECS/ and flat, clean files under SOURCES/.
func FuzzReadSRPM(f *testing.F) {
	seeds, err := fixtures.SeedRPMs(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		f.Add(s.Data)
	}
	out := f.TempDir()
	buildSRPM(f, "libgreet", out)
	if files, _ := filepath.Glob(filepath.Join(out, "*.src.rpm")); len(files) == 1 {
		data, _ := os.ReadFile(files[0])
		f.Add(data)
	}
	old := rpmfile.MaxUnpacked
	rpmfile.MaxUnpacked = 16 << 20
	f.Cleanup(func() { rpmfile.MaxUnpacked = old })
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSRPM(t, data)
		checkSRPM(t, fixtures.Redigest(data))
	})
}

func checkSRPM(t *testing.T, data []byte) {
	s, err := source.ReadSRPM("fuzz.src.rpm", data)
	if err != nil {
		if !strings.HasPrefix(err.Error(), "SRPM fuzz.src.rpm: ") {
			t.Fatalf("error does not name the SRPM: %v", err)
		}
		return
	}
	if s.Name == "" || s.Version == "" || s.Release == "" {
		t.Fatalf("imported %q-%q-%q", s.Name, s.Version, s.Release)
	}
	specs := 0
	for p := range s.Tree {
		dir, name, ok := strings.Cut(p, "/")
		if c, err := store.CleanPath(p); err != nil || c != p || !ok || strings.Contains(name, "/") || (dir != "SPECS" && dir != "SOURCES") {
			t.Fatalf("tree path %q", p)
		}
		if dir == "SPECS" {
			specs++
		}
	}
	if specs != 1 {
		t.Fatalf("%d specs", specs)
	}
}
