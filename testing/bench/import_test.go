// Package bench measures Quarry against baselines run in the same process.
// Run with `make bench`; each benchmark reports its figure and the ratio
// to its baseline as custom metrics.
package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/source"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

var (
	synthOnce  sync.Once
	synthDir   string
	synthNames []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if synthDir != "" {
		os.RemoveAll(synthDir)
	}
	os.Exit(code)
}

// synth200 generates the 200-package distribution once per process.
func synth200(tb testing.TB) (string, []string) {
	synthOnce.Do(func() {
		dir, err := os.MkdirTemp("", "quarry-bench-")
		if err != nil {
			tb.Fatal(err)
		}
		synthDir = dir
		synthNames = synthDistro(tb, dir, 200)
	})
	if synthNames == nil {
		tb.Fatal("generating the synthetic distribution failed")
	}
	return synthDir, synthNames
}

// synthDistro writes a distribution of n small packages and its upstream
// (CentOS-layout dist-git with imports/ tags, a lookaside tarball each, and
// a debranding patch repository for every tenth package) under dir.
func synthDistro(tb testing.TB, dir string, n int) []string {
	tb.Helper()
	up := &fixtures.Upstream{Dir: filepath.Join(dir, "upstream"), Branch: "c9"}
	names := make([]string, n)
	var g errgroup.Group
	g.SetLimit(2 * runtime.NumCPU())
	for i := range names {
		name := fmt.Sprintf("pkg%03d", i)
		names[i] = name
		g.Go(func() error {
			spec := fmt.Sprintf(`Name: %[1]s
Version: 1.%[2]d
Release: 1%%{?dist}
Summary: Synthetic package %[2]d from Summit
License: MIT
Source0: %[1]s-1.%[2]d.tar.gz
Source1: %[1]s.conf

%%description
Synthetic package %[2]d, built by Summit.

%%prep
%%setup -q

%%install
mkdir -p %%{buildroot}/etc
cp %%{SOURCE1} %%{buildroot}/etc/

%%files
/etc/%[1]s.conf
`, name, i)
			p := fixtures.Package{Name: name, Layout: fixtures.CentOS, Spec: []byte(spec),
				Files:    map[string][]byte{name + ".conf": []byte("vendor=Summit\n")},
				Archives: map[string][]byte{fmt.Sprintf("%s-1.%d.tar.gz", name, i): []byte(strings.Repeat(name, 4096))},
				NVR:      fmt.Sprintf("%s-1.%d-1.el9", name, i)}
			if _, err := up.Publish(p); err != nil {
				return err
			}
			if i%10 != 0 {
				return nil
			}
			patch := filepath.Join(dir, "patches", name, "r9", "ROCKY", "CFG")
			if err := os.MkdirAll(patch, 0o755); err != nil {
				return err
			}
			cfg := "spec_change {\n  search_and_replace {\n    any: true\n    find: \"Summit\"\n    replace: \"Pebble\"\n    n: -1\n  }\n}\n"
			if err := os.WriteFile(filepath.Join(patch, "debrand.cfg"), []byte(cfg), 0o644); err != nil {
				return err
			}
			return up.PublishPatches(name, map[string]string{"r9": filepath.Join(dir, "patches", name, "r9")})
		})
	}
	if err := g.Wait(); err != nil {
		tb.Fatal(err)
	}
	var none []string
	for i, name := range names {
		if i%10 != 0 {
			none = append(none, name)
		}
	}
	yaml := fmt.Sprintf(`distribution:
  name: pebble
  version: "9.4"
  dist_tag: .pbl9
  vendor: Pebble Project
  packager: Pebble <releng@pebble.example>
  arches: [x86_64]
upstream:
  dist_git:
    url: upstream/rpms/{name}.git
    branch: c9
    tags: true
  lookaside:
    url: upstream/lookaside/{name}/{filename}/{hashtype}/{hash}/{filename}
patches:
  url: upstream/patch/{name}.git
  branch: r9
  none: [%s]
repositories:
  - name: BaseOS
    packages: [%s]
`, strings.Join(none, ", "), strings.Join(names, ", "))
	if err := os.WriteFile(filepath.Join(dir, "quarry.yaml"), []byte(yaml), 0o644); err != nil {
		tb.Fatal(err)
	}
	return names
}

func newImporter(tb testing.TB, dir, state string) *source.Importer {
	tb.Helper()
	cfg, err := config.Load(filepath.Join(dir, "quarry.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	st, err := store.Open(filepath.Join(state, "store"))
	if err != nil {
		tb.Fatal(err)
	}
	return &source.Importer{Config: cfg, Store: st, StateDir: state}
}

func requests(names []string) []source.Request {
	reqs := make([]source.Request, len(names))
	for i, n := range names {
		reqs[i] = source.Request{Name: n}
	}
	return reqs
}

func importAll(tb testing.TB, im *source.Importer, lk *lock.Lock, names []string) []source.Result {
	tb.Helper()
	res, err := im.Import(context.Background(), lk, requests(names))
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// BenchmarkWarmReimport: 200 packages, nothing changed upstream. Goal: under
// 1 s. Baseline: `git ls-remote` of each repository, what a script checking
// upstream for news spends at the least.
func BenchmarkWarmReimport(b *testing.B) {
	dir, names := synth200(b)
	state := filepath.Join(b.TempDir(), "state")
	im := newImporter(b, dir, state)
	lk := lock.New()
	for _, r := range importAll(b, im, lk, names) {
		lk.Packages[r.Name] = r.Entry
	}

	start := time.Now()
	for _, n := range names {
		if out, err := exec.Command("git", "ls-remote", filepath.Join(dir, "upstream", "rpms", n+".git")).CombinedOutput(); err != nil {
			b.Fatalf("git ls-remote: %v\n%s", err, out)
		}
	}
	baseline := time.Since(start)

	b.ResetTimer()
	for range b.N {
		for _, r := range importAll(b, im, lk, names) {
			if r.Changed {
				b.Fatalf("%s changed on a warm re-import", r.Name)
			}
		}
	}
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(per.Seconds(), "s/reimport")
	b.ReportMetric(baseline.Seconds(), "s/git-ls-remote-loop")
	b.ReportMetric(per.Seconds()/baseline.Seconds(), "x-ls-remote")
	b.ReportMetric(per.Seconds()/1.0, "x-goal-1s")
}

// BenchmarkColdImport: packages per second of a cold import of 200 packages
// from a local upstream, next to `git clone` of the same repositories with
// the same parallelism.
func BenchmarkColdImport(b *testing.B) {
	dir, names := synth200(b)
	n := float64(len(names))
	clones := b.TempDir()
	jobs := 2 * runtime.NumCPU()

	start := time.Now()
	var g errgroup.Group
	g.SetLimit(jobs)
	for _, name := range names {
		g.Go(func() error {
			out, err := exec.Command("git", "clone", "-q", filepath.Join(dir, "upstream", "rpms", name+".git"),
				filepath.Join(clones, name)).CombinedOutput()
			if err != nil {
				return fmt.Errorf("git clone %s: %v\n%s", name, err, out)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	clone := time.Since(start)

	b.ResetTimer()
	for i := range b.N {
		im := newImporter(b, dir, filepath.Join(clones, fmt.Sprintf("state%d", i)))
		im.Jobs = jobs
		importAll(b, im, lock.New(), names)
	}
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(n/per.Seconds(), "pkg/s")
	b.ReportMetric(n/clone.Seconds(), "pkg/s-git-clone")
	b.ReportMetric(per.Seconds()/clone.Seconds(), "x-git-clone")
}
