package lock

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveWritesOnlyChangesAndLoadIsStrict(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "quarry.lock")
	l, err := Load(path)
	if err != nil || len(l.Packages) != 0 {
		t.Fatalf("missing lock: %v, %v", l, err)
	}
	l.Packages["greet"] = &Package{NVR: "greet-2.0-1.pbl9", Tree: "abc", Upstream: Upstream{Kind: "dist-git", Commit: "c0ffee"}}
	if wrote, err := l.Save(path); err != nil || !wrote {
		t.Fatalf("first save: %v, %v", wrote, err)
	}
	info, _ := os.Stat(path)
	back, err := Load(path)
	if err != nil || back.Packages["greet"].Upstream.Commit != "c0ffee" {
		t.Fatalf("read back: %+v, %v", back, err)
	}
	if wrote, err := back.Save(path); err != nil || wrote {
		t.Fatalf("unchanged save wrote: %v, %v", wrote, err)
	}
	if again, _ := os.Stat(path); !again.ModTime().Equal(info.ModTime()) {
		t.Error("an unchanged save touched the file")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("left files beside the lock: %v", entries)
	}

	os.WriteFile(path, []byte(`{"version": 1, "packages": {}, "colour": "blue"}`), 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("unknown field: %v", err)
	}
	os.WriteFile(path, []byte(`{"version": 7, "packages": {}}`), 0o644)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "format version 7") {
		t.Errorf("future version: %v", err)
	}
}
