package downstream

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/store"
)

type fixture struct {
	t      *testing.T
	dir    string
	store  *store.Store
	pusher *Pusher
	remote string
}

func newFixture(t *testing.T) *fixture {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "state", "store"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{
		File:         filepath.Join(dir, "quarry.yaml"),
		Distribution: config.Distribution{Version: "9.4", Packager: "Pebble RelEng <releng@pebble.example>"},
		Push:         &config.Push{URL: "downstream/{name}.git", Lookaside: "lookaside"},
	}
	return &fixture{t: t, dir: dir, store: st, remote: filepath.Join(dir, "downstream", "hello.git"),
		pusher: &Pusher{Config: cfg, Store: st, StateDir: filepath.Join(dir, "state")}}
}

// entry stores a tree for hello at the given release and returns its lock entry.
func (f *fixture) entry(release, specExtra string) *lock.Package {
	f.t.Helper()
	tree := store.Tree{
		"SPECS/hello.spec":           {Data: []byte("Name: hello\nRelease: " + release + "\n" + specExtra)},
		"SOURCES/hello.sh":           {Data: []byte("#!/bin/sh\necho hello\n"), Exec: true},
		"SOURCES/hello-1.0.tar.gz":   {Data: []byte("not really a tarball"), Lookaside: true},
		"SOURCES/sub/dir/extra.conf": {Data: []byte("x=1\n")},
	}
	d, err := f.store.PutTree(tree)
	if err != nil {
		f.t.Fatal(err)
	}
	return &lock.Package{NVR: "hello-1.0-" + release + ".pbl9", Tree: d,
		Upstream: lock.Upstream{Kind: "dist-git", URL: "upstream/hello.git", Commit: "abc"}}
}

func (f *fixture) push(e *lock.Package) (Result, error) {
	return f.pusher.Push(context.Background(), "hello", e)
}

func (f *fixture) mustPush(e *lock.Package) Result {
	f.t.Helper()
	res, err := f.push(e)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

func (f *fixture) git(dir string, args ...string) string {
	f.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	out, err := cmd.CombinedOutput()
	if err != nil {
		f.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestFirstPushCreatesBranchTagAndMetadata(t *testing.T) {
	f := newFixture(t)
	e := f.entry("1", "")
	res := f.mustPush(e)
	if !res.Changed || res.Branch != "r9" || res.Tag != "imports/r9/hello-1.0-1.pbl9" {
		t.Fatalf("result %+v", res)
	}
	f.git(f.remote, "fsck", "--strict")
	if got := f.git(f.remote, "rev-parse", "r9", "imports/r9/hello-1.0-1.pbl9^{commit}"); got != res.Commit+"\n"+res.Commit {
		t.Fatalf("branch and tag = %q, want both %s", got, res.Commit)
	}
	if head := f.git(f.remote, "symbolic-ref", "HEAD"); head != "refs/heads/r9" {
		t.Errorf("HEAD = %s", head)
	}
	files := f.git(f.remote, "ls-tree", "-r", "--format=%(objectmode) %(path)", "r9")
	want := "100644 .hello.metadata\n100755 SOURCES/hello.sh\n100644 SOURCES/sub/dir/extra.conf\n100644 SPECS/hello.spec"
	if files != want {
		t.Fatalf("tree:\n%s\nwant:\n%s", files, want)
	}
	meta := f.git(f.remote, "show", "r9:.hello.metadata")
	digest := store.Digest([]byte("not really a tarball"))
	if meta != digest+" SOURCES/hello-1.0.tar.gz" {
		t.Errorf("metadata %q", meta)
	}
	if data, err := os.ReadFile(filepath.Join(f.dir, "lookaside", digest)); err != nil || string(data) != "not really a tarball" {
		t.Errorf("lookaside copy: %q, %v", data, err)
	}
	if author := f.git(f.remote, "log", "-1", "--format=%an <%ae>%n%s", "r9"); author != "Pebble RelEng <releng@pebble.example>\nimport hello-1.0-1.pbl9" {
		t.Errorf("commit: %q", author)
	}
}

func TestPushAgainChangesNothingAndNewImportFastForwards(t *testing.T) {
	f := newFixture(t)
	first := f.mustPush(f.entry("1", ""))
	again := f.mustPush(f.entry("1", ""))
	if again.Changed || again.Commit != first.Commit {
		t.Fatalf("second push of the same tree: %+v (first %s)", again, first.Commit)
	}
	second := f.mustPush(f.entry("2", ""))
	if !second.Changed {
		t.Fatal("new release not pushed")
	}
	if parent := f.git(f.remote, "rev-parse", "r9^"); parent != first.Commit {
		t.Errorf("parent of the new import = %s, want %s", parent, first.Commit)
	}
	if tags := f.git(f.remote, "tag"); tags != "imports/r9/hello-1.0-1.pbl9\nimports/r9/hello-1.0-2.pbl9" {
		t.Errorf("tags: %q", tags)
	}
}

func TestCommitsPushedOnTopAreKept(t *testing.T) {
	f := newFixture(t)
	f.mustPush(f.entry("1", ""))
	clone := filepath.Join(f.dir, "clone")
	f.git(f.dir, "clone", "-q", f.remote, clone)
	f.git(clone, "commit", "-q", "--allow-empty", "-m", "downstream note")
	f.git(clone, "push", "-q", "origin", "r9")
	theirs := f.git(clone, "rev-parse", "HEAD")

	res := f.mustPush(f.entry("2", ""))
	if parent := f.git(f.remote, "rev-parse", "r9^"); parent != theirs || res.Commit != f.git(f.remote, "rev-parse", "r9") {
		t.Errorf("new import's parent = %s, want the downstream commit %s", parent, theirs)
	}
}

func TestDivergedBranchIsRefusedUnlessForced(t *testing.T) {
	f := newFixture(t)
	f.mustPush(f.entry("1", ""))
	clone := filepath.Join(f.dir, "clone")
	f.git(f.dir, "clone", "-q", f.remote, clone)
	f.git(clone, "commit", "-q", "--amend", "-m", "rewritten")
	f.git(clone, "push", "-q", "-f", "origin", "r9")
	rewritten := f.git(clone, "rev-parse", "HEAD")

	_, err := f.push(f.entry("2", ""))
	var de *DivergedError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "branch r9 has diverged") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("err = %v, want a diverged branch", err)
	}
	if head := f.git(f.remote, "rev-parse", "r9"); head != rewritten {
		t.Fatalf("refused push moved the branch to %s", head)
	}
	if tags := f.git(f.remote, "tag"); tags != "imports/r9/hello-1.0-1.pbl9" {
		t.Errorf("refused push added tags: %q", tags)
	}

	f.pusher.Force = true
	res := f.mustPush(f.entry("2", ""))
	if head := f.git(f.remote, "rev-parse", "r9"); head != res.Commit {
		t.Errorf("forced push: branch at %s, want %s", head, res.Commit)
	}
}

func TestTagOfOtherContentIsRefused(t *testing.T) {
	f := newFixture(t)
	first := f.mustPush(f.entry("1", ""))
	// Same NVR, other content: the patches changed without a release bump.
	_, err := f.push(f.entry("1", "# changed\n"))
	var de *DivergedError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "tag imports/r9/hello-1.0-1.pbl9 already tags other content") {
		t.Fatalf("err = %v", err)
	}
	if head := f.git(f.remote, "rev-parse", "r9"); head != first.Commit {
		t.Errorf("refused push moved the branch")
	}
}

func TestRemoteThatDoesNotExist(t *testing.T) {
	f := newFixture(t)
	f.pusher.URL = "https://127.0.0.1:1/{name}.git"
	_, err := f.push(f.entry("1", ""))
	if err == nil || !strings.Contains(err.Error(), "push hello: fetch https://127.0.0.1:1/hello.git") {
		t.Fatalf("err = %v", err)
	}
}
