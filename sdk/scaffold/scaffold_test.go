package scaffold

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGoVersionIsTheSDKs: the scaffold's go directive is the SDK's own.
func TestGoVersionIsTheSDKs(t *testing.T) {
	raw, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "\ngo "+GoVersion+"\n") {
		t.Errorf("sdk/go.mod's go directive is not %s", GoVersion)
	}
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "media")
	files, err := Write(dir, Options{Name: "media", SDKDir: "..", Date: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	want := ".gitignore Makefile README.md example-config.yaml go.mod go.sum main.go sig/package/media-motd.spec sig/sig.go sig/sig_test.go"
	if got := strings.Join(files, " "); got != want {
		t.Errorf("wrote %s\nwant  %s", got, want)
	}
	mod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	sdkDir, _ := filepath.Abs("..")
	if !strings.Contains(string(mod), "module quarry-sig-media\n") || !strings.Contains(string(mod), "replace "+SDKModule+" => "+sdkDir+"\n") {
		t.Errorf("go.mod:\n%s", mod)
	}
	if !strings.Contains(string(mod), "\tgithub.com/hashicorp/go-plugin v1.8.0 // indirect\n") {
		t.Errorf("go.mod lacks the SDK's requirements:\n%s", mod)
	}
	spec, _ := os.ReadFile(filepath.Join(dir, "sig", "package", "media-motd.spec"))
	if !strings.Contains(string(spec), "Name:           media-motd\n") || !strings.Contains(string(spec), "* Tue Dec 01 2026 media SIG") {
		t.Errorf("spec:\n%s", spec)
	}
	main, _ := os.ReadFile(filepath.Join(dir, "main.go"))
	if !strings.Contains(string(main), `sdk.Serve("media", sig.New)`) || !strings.Contains(string(main), `"quarry-sig-media/sig"`) {
		t.Errorf("main.go:\n%s", main)
	}
	for _, bad := range []struct {
		dir string
		o   Options
		msg string
	}{
		{dir, Options{Name: "media"}, "is not empty"},
		{t.TempDir(), Options{Name: "Media"}, "lower-case letters and digits"},
		{t.TempDir(), Options{Name: "x", SDKDir: t.TempDir()}, "not the SDK module"},
		{t.TempDir(), Options{Name: "x", Module: "example.com/a b"}, "module path"},
		{t.TempDir(), Options{Name: "x", Module: "../x"}, "module path"},
	} {
		if _, err := Write(bad.dir, bad.o); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("Write(%s, %+v): %v, want %q", bad.dir, bad.o, err, bad.msg)
		}
	}
}
