package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/layout"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/publish"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/srpm"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/plugins/intake"
	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/host"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// These tests drive Publish in process, from recorded builds made by
// hand (real RPMs from rpmbuild, a real store and keys), with a fake
// SIG source: the SIG-failure and carry-over paths, without a build.

const testConfig = `distribution:
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
  lookaside:
    url: upstream/lookaside/{name}/{filename}/{hashtype}/{hash}/{filename}
patches:
  url: upstream/patch/{name}.git
  branch: r9
  none: [hello]
repositories:
  - name: BaseOS
    packages: [hello]
sigs:
  - name: hpc
  - name: media
`

const helloSpec = `Name: %s
Version: 1.0
Release: 1
Summary: test
License: MIT
BuildArch: noarch
%%description
test
%%files
`

type keys map[string]*sign.Key

func (k keys) Core() (*sign.Key, error) { return k[""], nil }
func (k keys) SIG(name string) (*sign.Key, error) {
	if key := k[name]; key != nil {
		return key, nil
	}
	return nil, fmt.Errorf("sig %s has no signing key", name)
}

// installers is a fake SIG source: its installer plugin writes what
// write says.
type installers struct {
	name    string // the artifact's name
	started int
}

func (f *installers) Intake(context.Context, string, *srpm.Sources, sdk.Core, map[string]bool) (*intake.SIG, error) {
	return nil, errors.New("not in these tests")
}

func (f *installers) Installers(_ context.Context, sig, root string) (intake.InstallerMaker, error) {
	f.started++
	return f, nil
}

func (f *installers) BuildInstaller(_ context.Context, req sdk.BuildRequest, w io.Writer) (sdk.Artifact, error) {
	io.WriteString(w, "an image of "+req.Name)
	return sdk.Artifact{Name: f.name, MediaType: "application/octet-stream"}, nil
}

func (f *installers) Close() {}

type world struct {
	t    *testing.T
	p    *Pipeline
	keys keys
	pkgs map[string]builtPkg // by package
}

type builtPkg struct {
	srpm build.Input
	rpm  build.Output
}

func newWorld(t *testing.T) *world {
	t.Helper()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "quarry.yaml")
	if err := os.WriteFile(cfgFile, []byte(testConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "state", "store"))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, keys: keys{}, pkgs: map[string]builtPkg{}}
	for _, name := range []string{"", "hpc", "media"} {
		k, err := sign.Generate("test "+name+" <t@example>", 2048, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		w.keys[name] = k
	}
	lay := layout.Layout{Distro: "pebble", State: filepath.Join(dir, "state"), Out: filepath.Join(dir, "out")}
	w.p = &Pipeline{Config: cfg, Store: st, Layout: lay, Keys: w.keys, Version: "test"}
	if _, err := lock.New().Save(lay.LockFile()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hello", "hpc-tools", "pebble-release-hpc"} {
		w.pkgs[name] = w.rpm(name)
	}
	return w
}

// rpm builds a real noarch RPM and its SRPM into the store.
func (w *world) rpm(name string) builtPkg {
	w.t.Helper()
	dir := w.t.TempDir()
	spec := fmt.Sprintf(helloSpec, name)
	rpms, err := fixtures.BuildSpec(dir, name, spec)
	if err != nil {
		w.t.Fatal(err)
	}
	srpm, err := fixtures.BuildSRPM(dir, name, spec)
	if err != nil {
		w.t.Fatal(err)
	}
	put := func(path string) string {
		data, err := os.ReadFile(path)
		if err != nil {
			w.t.Fatal(err)
		}
		d, err := w.p.Store.Put(data)
		if err != nil {
			w.t.Fatal(err)
		}
		return d
	}
	return builtPkg{
		srpm: build.Input{Name: filepath.Base(srpm), SHA256: put(srpm)},
		rpm:  build.Output{File: filepath.Base(rpms[0]), SHA256: put(rpms[0]), Name: name, Arch: "noarch", EVR: "1.0-1"},
	}
}

// built is a recorded build of the core's hello, the hpc SIG's
// hpc-tools with its release package, and the media SIG, which ships a
// kickstart and a built image only.
func (w *world) built(failed map[string]string) *Built {
	b := &Built{Config: w.p.configDigest(), Lock: lock.New(), Records: map[string]*build.Record{}, SIGErrors: map[string]string{}}
	b.LockDigest = b.Lock.Digest()
	end := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	job := func(pkg, owner, sig string) {
		id := pkg + "/noarch"
		bp := w.pkgs[pkg]
		b.Jobs = append(b.Jobs, BuiltJob{ID: id, Package: pkg, Arch: "noarch", Owner: owner, SIG: sig, Status: build.Cached})
		b.Records[id] = &build.Record{Key: "key-" + pkg, Job: build.Job{ID: id, Package: pkg, Arch: "noarch", SRPM: bp.srpm},
			Start: end.Add(-time.Minute), End: end, Outputs: []build.Output{bp.rpm}}
	}
	job("hello", "", "")
	job("hpc-tools", "hpc", "hpc")
	job("pebble-release-hpc", ReleaseOwner, "hpc")
	b.SIGs = []BuiltSIG{
		{Name: "hpc", Info: host.PluginInfo{SIG: "hpc", Version: "1.0"}, Repos: []sdk.Repo{{ID: "hpc", Name: "HPC"}},
			RepoOf: map[string]string{"hpc-tools": "hpc"}, Release: "pebble-release-hpc"},
		{Name: "media", Info: host.PluginInfo{SIG: "media", Version: "1.0"},
			Installers: []sdk.Installer{
				{Name: "workstation", Kind: sdk.Kickstart, Content: []byte("%packages\nhello\n%end\n"), Packages: []string{"hello"}, Repos: []string{"BaseOS"}},
				{Name: "live", Kind: sdk.Kickstart, Build: true, Packages: []string{"hello"}, Repos: []string{"BaseOS"}},
			}},
	}
	for name, msg := range failed {
		b.SIGErrors[name] = msg
		for i, s := range b.SIGs {
			if s.Name == name {
				b.SIGs = append(b.SIGs[:i], b.SIGs[i+1:]...)
				break
			}
		}
	}
	return b
}

func (w *world) manifest() *publish.Manifest {
	w.t.Helper()
	var trust sign.Trust
	trust.Add(w.keys[""].Public(), "core")
	if _, err := publish.Verify(w.p.Layout.Current(), &trust); err != nil {
		w.t.Fatalf("verify: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(w.p.Layout.Current(), publish.ManifestFile))
	if err != nil {
		w.t.Fatal(err)
	}
	var m publish.Manifest
	if err := jsonUnmarshal(data, &m); err != nil {
		w.t.Fatal(err)
	}
	return &m
}

func images(m *publish.Manifest, sig string) []string {
	var out []string
	for _, img := range m.Images {
		if img.SIG == sig {
			out = append(out, img.Path)
		}
	}
	return out
}

func packagesOf(m *publish.Manifest, sig string) []string {
	var out []string
	for _, a := range m.Artifacts {
		if a.SIG == sig && a.Arch != "src" {
			out = append(out, a.Name)
		}
	}
	return out
}

func TestPublishCarriesAFailedSIGsInstallersAndPackages(t *testing.T) {
	w := newWorld(t)
	src := &installers{name: "live.iso"}
	w.p.SIGs = src
	ctx := context.Background()
	res, err := w.p.Publish(ctx, w.built(nil))
	if err != nil {
		t.Fatalf("first publish: %v", err)
	}
	first := w.manifest()
	if got := images(first, "media"); len(got) != 2 {
		t.Fatalf("media's images: %v", got)
	}
	if got := packagesOf(first, "hpc"); len(got) != 1 {
		t.Fatalf("hpc's packages: %v", got)
	}
	// Both SIGs fail the next run: each keeps what it had, its packages
	// and its installers alike (media ships installers only).
	res2, err := w.p.Publish(ctx, w.built(map[string]string{"media": "sig media: broken", "hpc": "sig hpc: broken"}))
	var se *SIGsError
	if !errors.As(err, &se) || !se.Published || len(se.Errors) != 2 {
		t.Fatalf("second publish: %v", err)
	}
	if res2.Compose == res.Compose {
		t.Fatal("the second publish made no compose")
	}
	second := w.manifest()
	if got := images(second, "media"); len(got) != 2 {
		t.Errorf("media failed and lost its images: %v (%v)", got, se.Errors)
	}
	for _, p := range images(second, "media") {
		if _, err := os.Stat(filepath.Join(w.p.Layout.Current(), p)); err != nil {
			t.Errorf("carried image: %v", err)
		}
	}
	if got := packagesOf(second, "hpc"); len(got) != 1 {
		t.Errorf("hpc failed and lost its packages: %v", got)
	}
	if !strings.Contains(strings.Join(se.Errors, "\n"), "installer images from the current publication are kept") {
		t.Errorf("the failure does not say what was kept: %v", se.Errors)
	}
}

func TestPublishNothingNew(t *testing.T) {
	w := newWorld(t)
	w.p.SIGs = &installers{name: "live.iso"}
	ctx := context.Background()
	res, err := w.p.Publish(ctx, w.built(nil))
	if err != nil {
		t.Fatal(err)
	}
	again, err := w.p.Publish(ctx, w.built(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Nothing || again.Compose != res.Compose {
		t.Fatalf("the same build published again: %+v", again)
	}
	list, _ := w.p.Publisher().List()
	if len(list) != 1 {
		t.Errorf("composes: %v", list)
	}
	// A rollback makes another compose current: the same build is then
	// new to it, and publishes.
	b := w.built(map[string]string{"hpc": "sig hpc: broken"})
	if _, err := w.p.Publish(ctx, b); err == nil {
		t.Fatal("a failed SIG is not an error")
	}
	_, to, err := w.p.Publisher().Rollback()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := w.p.Publisher().Composes()
	if err != nil || len(cs) != 2 {
		t.Fatalf("composes: %+v %v", cs, err)
	}
	if cs[0].Current || !cs[1].Current || cs[1].ID != to || cs[1].Rollback || cs[1].Packages != 3 || cs[1].Sources != 3 ||
		strings.Join(cs[1].SIGs, " ") != "hpc media" || cs[1].Images != 2 {
		t.Errorf("composes after a rollback: %+v", cs)
	}
	if res, err := w.p.Publish(ctx, w.built(nil)); err != nil || res.Nothing {
		t.Fatalf("after a rollback: %+v %v", res, err)
	}
}

func TestPublishRefuses(t *testing.T) {
	w := newWorld(t)
	w.p.SIGs = &installers{name: "live.iso"}
	ctx := context.Background()
	cases := []struct {
		name string
		edit func(*Built)
		want string
	}{
		{"core failed", func(b *Built) { b.CoreFailed = []string{"hello/noarch: rpmbuild failed"} }, "1 core jobs failed"},
		{"partial", func(b *Built) { b.Partial = true }, "some packages only"},
		{"other config", func(b *Built) { b.Config = "0000" }, "changed since the last build"},
		{"other lock", func(b *Built) { b.LockDigest, b.BaseLock = "1111", "2222" }, "quarry.lock changed"},
	}
	for _, c := range cases {
		b := w.built(nil)
		c.edit(b)
		if _, err := w.p.Publish(ctx, b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if _, err := os.Stat(w.p.Layout.Current()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: published anyway", c.name)
		}
	}
}

func TestPublishInstallerNameFromThePluginIsJudged(t *testing.T) {
	w := newWorld(t)
	w.p.SIGs = &installers{name: "../../repos/BaseOS/x86_64/hello.rpm"}
	_, err := w.p.Publish(context.Background(), w.built(nil))
	var se *SIGsError
	if !errors.As(err, &se) || !strings.Contains(se.Errors[0], "media") {
		t.Fatalf("a hostile artifact name: %v", err)
	}
	m := w.manifest()
	if got := images(m, "media"); len(got) != 0 {
		t.Errorf("the SIG's images are published: %v", got)
	}
	if got := packagesOf(m, "hpc"); len(got) != 1 {
		t.Errorf("the other SIG lost its packages: %v", got)
	}
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
