package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/testing/fixtures"
)

// TestRepoIndexBadFilesAndTwins: from the command line, a folder with a
// file that is not an RPM fails naming it and writes no repodata;
// --skip-bad indexes the rest and warns on stderr, as do two files of one
// NEVRA, both indexed.
func TestRepoIndexBadFilesAndTwins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(rel string, data []byte) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, rel), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/twin-1.0-1.x86_64.rpm", fixtures.SyntheticRPM("twin", "1.0", "1", 1700000000))
	write("b/twin-1.0-1.x86_64.rpm", fixtures.SyntheticRPM("twin", "1.0", "1", 1700000001))
	write("junk.rpm", []byte("not an rpm"))
	run := func(args ...string) (string, string, int) {
		return runCmd(t, exec.Command(quarryBin, append([]string{"repo", "index", "--cache-dir", t.TempDir()}, args...)...))
	}
	_, stderr, code := run(dir)
	if code == 0 || !strings.Contains(stderr, "junk.rpm: not an RPM") || !strings.Contains(stderr, "--skip-bad") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "repodata")); !os.IsNotExist(err) {
		t.Errorf("a failed index wrote repodata: %v", err)
	}
	stdout, stderr, code := run("--skip-bad", dir)
	if code != 0 || !strings.Contains(stdout, "2 packages (3 read, 1 skipped)") {
		t.Errorf("--skip-bad: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
	for _, s := range []string{"skipped a package that cannot be indexed: file=junk.rpm", "several files are the same package", "twin-0:1.0-1.x86_64", "a/twin-1.0-1.x86_64.rpm"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not say %q:\n%s", s, stderr)
		}
	}
}
