package intake

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/sdk"
)

func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestGitSources: the host fetches a SIG package from git at a commit,
// from a folder of the repository; a symlink is refused.
func TestGitSources(t *testing.T) {
	repo := t.TempDir()
	runGit(t, repo, "init", "-q", "-b", "main")
	os.MkdirAll(filepath.Join(repo, "pkgs", "tool"), 0o755)
	os.WriteFile(filepath.Join(repo, "pkgs", "tool", "tool.spec"), []byte("Name: tool\n"), 0o644)
	os.WriteFile(filepath.Join(repo, "pkgs", "tool", "run.sh"), []byte("#!/bin/sh\n"), 0o755)
	runGit(t, repo, "add", ".")
	runGit(t, repo, "commit", "-q", "-m", "first")
	first := runGit(t, repo, "rev-parse", "HEAD")
	os.WriteFile(filepath.Join(repo, "pkgs", "tool", "tool.spec"), []byte("Name: tool\nVersion: 2\n"), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(repo, "pkgs", "tool", "passwd"))
	runGit(t, repo, "add", ".")
	runGit(t, repo, "commit", "-q", "-m", "second")
	second := runGit(t, repo, "rev-parse", "HEAD")

	files, err := gitFiles(context.Background(), sdk.GitSource{URL: "file://" + repo, Commit: first, Dir: "pkgs/tool"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[1].Path != "tool.spec" || string(files[1].Data) != "Name: tool\n" || files[0].Mode != 0o755 {
		t.Errorf("files at the first commit: %+v", files)
	}
	if _, err := gitFiles(context.Background(), sdk.GitSource{URL: "file://" + repo, Commit: second, Dir: "pkgs/tool"}); err == nil || !strings.Contains(err.Error(), "passwd is a symlink") {
		t.Errorf("a symlink: %v", err)
	}
	if _, err := gitFiles(context.Background(), sdk.GitSource{URL: "file://" + repo, Commit: "0123456789abcdef0123456789abcdef01234567"}); err == nil {
		t.Error("an unknown commit was fetched")
	}
}
