package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/testing/fixtures"
)

// TestSigNewPassesItsOwnTests: a SIG repository made by quarry sig new,
// outside this repository, depending on the SDK module alone, is
// gofmt-clean, vets, passes its own tests (the conformance suite in
// process) and builds, offline and with its go.mod as written; its binary
// passes quarry plugin check. Bad names and non-empty folders are refused,
// leaving them as they were.
func TestSigNewPassesItsOwnTests(t *testing.T) {
	slow(t)
	t.Parallel()
	work := t.TempDir()
	sdkDir := filepath.Join(fixtures.RepoRoot(), "sdk")
	newSIG := exec.Command(quarryBin, "sig", "new", "media", "--sdk", sdkDir)
	newSIG.Dir = work
	stdout, stderr, code := runCmd(t, newSIG)
	if code != 0 || !strings.Contains(stdout, filepath.Join("quarry-sig-media", "sig", "sig_test.go")) || !strings.Contains(stderr, "next: cd quarry-sig-media && make test") {
		t.Fatalf("sig new: exit %d\n%s\n%s", code, stdout, stderr)
	}
	dir := filepath.Join(work, "quarry-sig-media")
	// Offline, and go.mod and go.sum as written: nothing to tidy.
	env := append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly", "GOWORK=off")
	step := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := step("gofmt", "-l", "."); out != "" {
		t.Errorf("gofmt -l: %s", out)
	}
	step("go", "vet", "./...")
	if out := step("go", "test", "-count=1", "-v", "./..."); !strings.Contains(out, "--- PASS: TestConformance/configure-rejects") ||
		strings.Contains(out, "[DEBUG]") || strings.Contains(out, "@level") {
		t.Errorf("go test -v: the conformance subtests, quietly:\n%s", out)
	}
	step("make", "build")
	check := exec.Command(quarryBin, "plugin", "check", "--quick", "--sig-config", "example-config.yaml", "bin/quarry-sig-media")
	check.Dir = dir
	if stdout, stderr, code := runCmd(t, check); code != 0 || strings.Contains(stdout, "fail ") {
		t.Errorf("plugin check on the scaffold's binary: exit %d\n%s\n%s", code, stdout, stderr)
	}
	version := exec.Command(filepath.Join(dir, "bin", "quarry-sig-media"), "--version")
	if out, err := version.Output(); err != nil || !strings.HasPrefix(string(out), "quarry-sig-media 0.1.0 (SIG media; Quarry SDK ") {
		t.Errorf("--version: %q %v", out, err)
	}
	byHand := exec.Command(filepath.Join(dir, "bin", "quarry-sig-media"))
	if _, stderr, code := runCmd(t, byHand); code != 2 || !strings.Contains(stderr, "is a Quarry SIG plugin (SIG media)") {
		t.Errorf("run by hand: exit %d\n%s", code, stderr)
	}

	for _, bad := range []struct {
		args []string
		msg  string
	}{
		{[]string{"Media"}, "lower-case letters and digits"},
		{[]string{"media"}, "quarry-sig-media is not empty"},
		{[]string{"other", "--sdk", work}, "not the SDK module"},
	} {
		cmd := exec.Command(quarryBin, append([]string{"sig", "new"}, bad.args...)...)
		cmd.Dir = work
		if _, stderr, code := runCmd(t, cmd); code != 1 || !strings.Contains(stderr, bad.msg) {
			t.Errorf("sig new %v: exit %d\n%s", bad.args, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "quarry-sig-other")); !os.IsNotExist(err) {
		t.Errorf("a refused sig new left a folder: %v", err)
	}
}
