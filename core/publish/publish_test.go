package publish

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

type world struct {
	t     *testing.T
	store *store.Store
	comp  *compose.Composer
	pub   *Publisher
}

// newWorld publishes into a 256 KiB tmpfs, so that a large compose runs
// out of space; the store and caches are on the ordinary disk.
func newWorld(t *testing.T) *world {
	out := t.TempDir()
	if msg, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "quarry-test", out).CombinedOutput(); err != nil {
		t.Fatalf("mount a small tmpfs (the test runs as root, as make test does): %v: %s", err, msg)
	}
	t.Cleanup(func() { exec.Command("umount", out).Run() })
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, err := sign.Generate("T <t@example>", 2048, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, store: st,
		comp: &compose.Composer{Store: st, Cache: t.TempDir(), Key: key, KeyName: "RPM-GPG-KEY-t", Arches: []string{"x86_64", "aarch64"}},
		pub:  &Publisher{Out: out, Keep: 3}}
}

// artifact stores a synthetic x86_64 RPM, published as file with arch.
func (w *world) artifact(name, release string, built uint32, file, arch, job string) compose.Artifact {
	d, err := w.store.Put(fixtures.SyntheticRPM(name, "1.0", release, built))
	if err != nil {
		w.t.Fatal(err)
	}
	return compose.Artifact{File: file, SHA256: d, Name: name, Arch: arch, Repo: "BaseOS", Job: job}
}

func (w *world) publish(arts []compose.Artifact) (string, error) {
	d, err := w.pub.Begin()
	if err != nil {
		return "", err
	}
	if _, err := w.comp.Compose(context.Background(), d.Dir(), arts); err != nil {
		d.Discard()
		return "", err
	}
	return d.Commit(time.Unix(1700000000, 0))
}

// TestBadInputLeavesCurrentAlone: an RPM whose header lies about its
// arch, two packages with one NEVRA, and a disk that fills up during the
// compose each fail with the file named, and current stays as it was.
func TestBadInputLeavesCurrentAlone(t *testing.T) {
	w := newWorld(t)
	good := []compose.Artifact{w.artifact("hello", "1", 1700000000, "hello-1.0-1.x86_64.rpm", "x86_64", "hello/x86_64")}
	first, err := w.publish(good)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", what, err, want)
		}
		if cur, _ := w.pub.Current(); cur != first {
			t.Errorf("%s: current moved to %s", what, cur)
		}
		repo := filepath.Join(w.pub.CurrentDir(), "repos", "BaseOS", "x86_64")
		if problems := compose.CheckRepodata(os.DirFS(repo), ".", repo); len(problems) > 0 {
			t.Errorf("%s: the current repository is damaged: %v", what, problems)
		}
		if drafts, _ := filepath.Glob(filepath.Join(w.pub.Out, "composes", ".draft-*")); len(drafts) > 0 {
			t.Errorf("%s: drafts left: %v", what, drafts)
		}
	}

	liar := w.artifact("liar", "1", 1700000000, "liar-1.0-1.aarch64.rpm", "aarch64", "liar/aarch64")
	_, err = w.publish(append(good, liar))
	check("lying arch", err, "liar-1.0-1.aarch64.rpm: its header says arch x86_64, but it is published in repos/BaseOS/aarch64")

	misnamed := w.artifact("liar", "1", 1700000000, "other-1.0-1.x86_64.rpm", "x86_64", "liar/x86_64")
	_, err = w.publish(append(good, misnamed))
	check("misnamed", err, "other-1.0-1.x86_64.rpm: its header says it is liar-1.0-1.x86_64.rpm")

	twin := w.artifact("hello", "1", 1700000999, "hello-1.0-1.x86_64.rpm", "x86_64", "hello-fork/x86_64")
	_, err = w.publish(append(good, twin))
	var dup *compose.DuplicateError
	if !errors.As(err, &dup) {
		t.Errorf("duplicate NEVRA: %v is not a DuplicateError", err)
	}
	check("duplicate NEVRA", err, "hello-1.0-1.x86_64.rpm (hello/x86_64) and hello-1.0-1.x86_64.rpm (hello-fork/x86_64) are the same package")

	var many []compose.Artifact
	for i := range 400 {
		name := fmt.Sprintf("filler%03d", i)
		many = append(many, w.artifact(name, "1", 1700000000, name+"-1.0-1.x86_64.rpm", "x86_64", name+"/x86_64"))
	}
	_, err = w.publish(append(good, many...))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("full disk: %v is not ENOSPC", err)
	}
	check("full disk", err, "no space left on device")

	// With room again, the next publish works.
	if _, err := w.publish(append(good, many[:3]...)); err != nil {
		t.Fatalf("after the failures: %v", err)
	}
}
