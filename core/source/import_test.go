package source_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/source"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

func exampleDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "examples", "distro")
}

var generated = &fixtures.Generated{Example: exampleDir()}

// slow skips a test under go test -short (make test-unit): it imports
// the generated example upstream (made once per process, by rpmspec and
// git for every package), or imports, plans and builds in sandboxes and
// compares with rpmbuild --rebuild, end to end. make test runs it.
func slow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow: imports (and builds) end to end (make test runs it)")
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	generated.Cleanup()
	os.Exit(code)
}

// setup generates the example's upstream into a temporary folder next to a
// copy of its config, and returns an importer over a fresh state folder.
func setup(t *testing.T, edit func(string) string) (*source.Importer, string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath, err := generated.Distro(dir, edit)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	st, err := store.Open(filepath.Join(state, "store"))
	if err != nil {
		t.Fatal(err)
	}
	return &source.Importer{Config: cfg, Store: st, StateDir: state}, dir
}

func all(cfg *config.Config) []source.Request {
	var reqs []source.Request
	for _, p := range cfg.Packages() {
		reqs = append(reqs, source.Request{Name: p})
	}
	return reqs
}

func TestImportExampleThenNothingChanges(t *testing.T) {
	slow(t)
	im, _ := setup(t, nil)
	lk := lock.New()
	res, err := im.Import(context.Background(), lk, all(im.Config))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.Changed {
			t.Errorf("%s: first import reported unchanged", r.Name)
		}
		lk.Packages[r.Name] = r.Entry
	}
	logos := lk.Packages["summit-logos"]
	if logos.NVR != "pebble-logos-90.0-1.pbl9" || logos.Patches == nil || logos.Patches.Commits["main"] == "" {
		t.Errorf("summit-logos pinned as %+v", logos)
	}
	if lk.Packages["wordfreq"].Upstream.Layout != "stream" || lk.Packages["greet"].Upstream.Layout != "centos" {
		t.Error("layouts not detected")
	}
	if !strings.HasPrefix(lk.Packages["greet"].Upstream.Ref, "imports/c9/greet-2.0-1.el9") {
		t.Errorf("greet ref = %s, want the newest imports tag", lk.Packages["greet"].Upstream.Ref)
	}
	if lk.Packages["banner"].NVR != "banner-1.5-2.pbl9.pebble.1" {
		t.Errorf("banner's branch directives not applied: %s", lk.Packages["banner"].NVR)
	}
	tree, err := im.Store.GetTree(logos.Tree)
	if err != nil {
		t.Fatal(err)
	}
	if !tree["SOURCES/pebble-artwork.tar.gz"].Lookaside || tree["SOURCES/summit-logo.svg"] != nil {
		t.Error("debranded tree is not what the directives say")
	}
	before, _ := lk.Marshal()

	// Nothing changed upstream: nothing is fetched and the lock is the same.
	lookaside := filepath.Join(filepath.Dir(im.Config.File), "upstream", "lookaside")
	if err := os.RemoveAll(lookaside); err != nil {
		t.Fatal(err)
	}
	res, err = im.Import(context.Background(), lk, all(im.Config))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Changed {
			t.Errorf("%s changed on a re-import", r.Name)
		}
		lk.Packages[r.Name] = r.Entry
	}
	after, _ := lk.Marshal()
	if !bytes.Equal(before, after) {
		t.Error("re-import changed the lock")
	}
}

// publishTallyBump publishes the example's tally upstream with the next
// release, and returns the example's NVR and the new one.
func publishTallyBump(t *testing.T, up *fixtures.Upstream) (old, bumped string) {
	t.Helper()
	p, err := fixtures.LoadPackage(filepath.Join(exampleDir(), "packages", "tally"))
	if err != nil {
		t.Fatal(err)
	}
	old = p.NVR
	p.Spec = bytes.Replace(p.Spec, []byte("Release:        2%{?dist}"), []byte("Release:        3%{?dist}"), 1)
	p.NVR = strings.Replace(p.NVR, "-2.el9", "-3.el9", 1)
	if _, err := up.Publish(*p); err != nil {
		t.Fatal(err)
	}
	return old, p.NVR
}

func TestImportPinsRef(t *testing.T) {
	slow(t)
	im, dir := setup(t, nil)
	up := &fixtures.Upstream{Dir: filepath.Join(dir, "upstream"), Branch: "c9"}
	old, _ := publishTallyBump(t, up)
	lk := lock.New()
	res, err := im.Import(context.Background(), lk, []source.Request{{Name: "tally"}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Entry.NVR != "tally-0.9-3.pbl9" {
		t.Fatalf("newest tag not taken: %s", res[0].Entry.NVR)
	}
	lk.Packages["tally"] = res[0].Entry
	res, err = im.Import(context.Background(), lk, []source.Request{{Name: "tally", Ref: "imports/c9/" + old}})
	if err != nil {
		t.Fatal(err)
	}
	if e := res[0].Entry; e.NVR != "tally-0.9-2.pbl9" || !e.Upstream.Pinned {
		t.Fatalf("pin not honoured: %+v", e)
	}
	lk.Packages["tally"] = res[0].Entry
	res, _ = im.Import(context.Background(), lk, []source.Request{{Name: "tally"}})
	if res[0].Entry.NVR != "tally-0.9-2.pbl9" {
		t.Error("a plain import moved a pinned package")
	}
	res, _ = im.Import(context.Background(), lk, []source.Request{{Name: "tally", Unpin: true}})
	if res[0].Entry.NVR != "tally-0.9-3.pbl9" || res[0].Entry.Upstream.Pinned {
		t.Error("--unpin did not return to the newest tag")
	}
}

func TestBadUpstreams(t *testing.T) {
	slow(t)
	cases := []struct {
		name   string
		edit   func(string) string
		mangle func(t *testing.T, dir string)
		pkg    string
		want   string
	}{
		{name: "wrong lookaside hash", pkg: "libgreet", want: "lookaside source libgreet-1.2.tar.gz",
			mangle: func(t *testing.T, dir string) {
				matches, _ := filepath.Glob(filepath.Join(dir, "upstream/lookaside/libgreet/*/*/*/*"))
				if len(matches) != 1 {
					t.Fatalf("lookaside files: %v", matches)
				}
				os.Chmod(matches[0], 0o644)
				os.WriteFile(matches[0], []byte("tampered"), 0o644)
			}},
		{name: "missing lookaside file", pkg: "libtally", want: "does not exist",
			mangle: func(t *testing.T, dir string) { os.RemoveAll(filepath.Join(dir, "upstream/lookaside/libtally")) }},
		{name: "missing patch repository", pkg: "kernel", want: "patch repository ",
			edit: func(s string) string { return strings.Replace(s, "none: [kernel, ", "none: [", 1) }},
		{name: "dist-git that does not answer", pkg: "greet", want: "does not answer",
			edit: func(s string) string {
				return strings.Replace(s, "url: upstream/rpms/{name}.git", "url: http://127.0.0.1:9/rpms/{name}.git", 1)
			}},
		{name: "directive that does not apply", pkg: "banner", want: "0001-banner-says-pebble.patch",
			mangle: func(t *testing.T, dir string) {
				up := &fixtures.Upstream{Dir: filepath.Join(dir, "upstream"), Branch: "c9"}
				p, err := fixtures.LoadPackage(filepath.Join(exampleDir(), "packages", "banner"))
				if err != nil {
					t.Fatal(err)
				}
				p.Spec = bytes.Replace(p.Spec, []byte("-o banner banner.c"), []byte("-o banner src/banner.c"), 1)
				p.NVR = ""
				up.Publish(*p)
			}, edit: func(s string) string { return strings.Replace(s, "tags: true", "tags: false", 1) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			im, dir := setup(t, tc.edit)
			if tc.mangle != nil {
				tc.mangle(t, dir)
			}
			_, err := im.Import(context.Background(), lock.New(), []source.Request{{Name: tc.pkg}})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.pkg) {
				t.Fatalf("error = %v; want one naming %s and %q", err, tc.pkg, tc.want)
			}
		})
	}
}

// srpmImporter imports from dir/srpms with the example's config, its
// upstream section replaced by upstream (written in dir).
func srpmImporter(t *testing.T, dir, upstream string) *source.Importer {
	t.Helper()
	cfgText := strings.Replace(mustRead(t, filepath.Join(exampleDir(), "quarry.yaml")),
		"upstream:\n  dist_git:\n    url: upstream/rpms/{name}.git\n    branch: c9\n    # Take the newest imports/c9/<nvr> tag, as CentOS publishes RHEL's.\n    tags: true\n  lookaside:\n    url: upstream/lookaside/{name}/{filename}/{hashtype}/{hash}/{filename}\n",
		upstream, 1)
	if !strings.Contains(cfgText, upstream) {
		t.Fatal("could not rewrite the config for SRPMs")
	}
	os.WriteFile(filepath.Join(dir, "quarry.yaml"), []byte(cfgText), 0o644)
	cfg, err := config.Load(filepath.Join(dir, "quarry.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := store.Open(filepath.Join(dir, "state", "store"))
	return &source.Importer{Config: cfg, Store: st, StateDir: filepath.Join(dir, "state")}
}

func TestImportFromSRPMs(t *testing.T) {
	slow(t)
	dir := t.TempDir()
	srpms := filepath.Join(dir, "srpms")
	// Real SRPMs, built by rpmbuild from the example's packages.
	for _, name := range []string{"libgreet", "summit-release"} {
		buildSRPM(t, name, srpms)
	}
	if err := generated.CopyTo(filepath.Join(dir, "upstream")); err != nil {
		t.Fatal(err)
	}
	im := srpmImporter(t, dir, "upstream:\n  srpms: srpms\n")
	res, err := im.Import(context.Background(), lock.New(), []source.Request{{Name: "libgreet"}, {Name: "summit-release"}})
	if err != nil {
		t.Fatal(err)
	}
	if e := res[1].Entry; e.NVR != "pebble-release-9.4-1.pbl9" || e.Upstream.Kind != "srpm" || len(e.Upstream.SHA256) != 64 {
		t.Errorf("summit-release from SRPM: %+v", e)
	}
	tree, _ := im.Store.GetTree(res[0].Entry.Tree)
	if f := tree["SOURCES/libgreet-1.2.tar.gz"]; f == nil || !f.Lookaside || tree["SPECS/libgreet.spec"] == nil {
		t.Errorf("libgreet SRPM unpacked as %v", tree.Paths())
	}

	// A truncated and a corrupted SRPM are refused, naming the file.
	file, _ := filepath.Glob(filepath.Join(srpms, "libgreet-*.src.rpm"))
	data := []byte(mustRead(t, file[0]))
	for name, bad := range map[string][]byte{
		"truncated": data[:len(data)-100],
		"corrupt":   append(append([]byte{}, data[:len(data)-50]...), bytes.Repeat([]byte{0xff}, 50)...),
	} {
		if _, err := source.ReadSRPM(name+".src.rpm", bad); err == nil || !strings.Contains(err.Error(), "SRPM "+name+".src.rpm") {
			t.Errorf("%s SRPM: error = %v", name, err)
		}
	}
}

// Every payload compression rpmbuild writes is unpacked to the same tree.
func TestReadSRPMPayloadCompressions(t *testing.T) {
	var first store.Tree
	for _, payload := range []string{"w9.gzdio", "w6.xzdio", "w19.zstdio", "w9.bzdio"} {
		out := t.TempDir()
		buildSRPM(t, "libgreet", out, "_source_payload "+payload)
		files, _ := filepath.Glob(filepath.Join(out, "*.src.rpm"))
		data := []byte(mustRead(t, files[0]))
		compressor, err := exec.Command("rpm", "-qp", "--qf", "%{payloadcompressor}", files[0]).Output()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: payload %s", payload, compressor)
		srpm, err := source.ReadSRPM(filepath.Base(files[0]), data)
		if err != nil {
			t.Fatalf("%s payload: %v", compressor, err)
		}
		if srpm.Tree["SPECS/libgreet.spec"] == nil || srpm.Tree["SOURCES/libgreet-1.2.tar.gz"] == nil {
			t.Fatalf("%s payload unpacked as %v", compressor, srpm.Tree.Paths())
		}
		if first == nil {
			first = srpm.Tree
			continue
		}
		if store.TreeDigest(first) != store.TreeDigest(srpm.Tree) {
			t.Errorf("%s payload unpacked to %v, gzip's to %v", compressor, srpm.Tree.Paths(), first.Paths())
		}
	}
}

func buildSRPM(t testing.TB, name, out string, defines ...string) {
	t.Helper()
	buildEditedSRPM(t, name, out, nil, defines...)
}

// buildEditedSRPM is buildSRPM of the example's package with edit applied
// to it first (its spec, its files).
func buildEditedSRPM(t testing.TB, name, out string, edit func(*fixtures.Package), defines ...string) {
	t.Helper()
	p, err := fixtures.LoadPackage(filepath.Join(exampleDir(), "packages", name))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(p)
	}
	top := t.TempDir()
	os.MkdirAll(filepath.Join(top, "SOURCES"), 0o755)
	for n, b := range p.Archives {
		os.WriteFile(filepath.Join(top, "SOURCES", n), b, 0o644)
	}
	for n, b := range p.Files {
		os.WriteFile(filepath.Join(top, "SOURCES", n), b, 0o644)
	}
	spec := filepath.Join(top, name+".spec")
	os.WriteFile(spec, p.Spec, 0o644)
	args := []string{"--define", "_topdir " + top, "--define", "_srcrpmdir " + out, "--define", "dist .el9"}
	for _, d := range defines {
		args = append(args, "--define", d)
	}
	cmd := exec.Command("rpmbuild", append(args, "-bs", spec)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rpmbuild -bs %s: %v\n%s", name, err, b)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// With upstream.keys, an SRPM is imported only with a signature by one of
// them: unsigned, or signed by another key, it is refused by name.
func TestSRPMsSignedByUpstream(t *testing.T) {
	dir := t.TempDir()
	srpms := filepath.Join(dir, "srpms")
	buildSRPM(t, "libgreet", srpms)
	files, _ := filepath.Glob(filepath.Join(srpms, "libgreet-*.src.rpm"))
	if len(files) != 1 {
		t.Fatalf("SRPMs %v", files)
	}
	path := files[0]
	plain, _ := os.ReadFile(path)
	upstream, _ := sign.Generate("Upstream <release@upstream.example>", 2048, time.Unix(1700000000, 0))
	other, _ := sign.Generate("Someone <x@elsewhere.example>", 2048, time.Unix(1700000000, 0))
	pub, _ := upstream.PublicArmored()
	os.WriteFile(filepath.Join(dir, "upstream.asc"), pub, 0o644)
	im := srpmImporter(t, dir, "upstream:\n  srpms: srpms\n  keys: [upstream.asc]\n")
	var err error
	for _, tc := range []struct {
		name string
		by   *sign.Key
		want string
	}{
		{"unsigned", nil, "has no signature"},
		{"another key", other, "NOKEY"},
		{"upstream's key", upstream, ""},
	} {
		data := plain
		if tc.by != nil {
			if data, err = tc.by.RPM(filepath.Base(path), plain); err != nil {
				t.Fatal(err)
			}
		}
		os.WriteFile(path, data, 0o644)
		_, err := im.Import(context.Background(), lock.New(), []source.Request{{Name: "libgreet"}})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), filepath.Base(path))):
			t.Errorf("%s: %v, want an error naming the SRPM and %q", tc.name, err, tc.want)
		}
	}
}
