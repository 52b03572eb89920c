package readback

import (
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// A spec with everything the gate reads: an epoch, Provides, Obsoletes
// and Conflicts, a file, a folder, a symlink, a ghost, and the three kinds
// of trigger.
const everythingSpec = `Name: everything
Epoch: 3
Version: 1.0
Release: 2
Summary: everything the gate reads
License: MIT
BuildArch: noarch
Provides: libgreet.so.1()(64bit)
Provides: /usr/bin/greet
Obsoletes: greet < 2
Conflicts: banner
%description
x
%install
mkdir -p %{buildroot}/opt/everything/dir %{buildroot}/etc
echo x > %{buildroot}/opt/everything/file
ln -s ../etc %{buildroot}/opt/everything/link
%triggerin -- greet
true
%filetriggerin -- /usr/bin
true
%transfiletriggerpostun -- /usr/lib
true
%files
/opt/everything/file
%dir /opt/everything/dir
/opt/everything/link
%ghost /etc/everything.conf
`

// TestReadsWhatRPMBuildWrote: a real rpmbuild'd RPM read back field by
// field.
func TestReadsWhatRPMBuildWrote(t *testing.T) {
	files, err := fixtures.BuildSpec(t.TempDir(), "everything", everythingSpec)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(files[0])
	r, err := Read(filepath.Base(files[0]), store.Digest(data), data)
	if err != nil {
		t.Fatal(err)
	}
	if r.NEVRA() != "everything-3:1.0-2.noarch" || r.FileName() != filepath.Base(files[0]) {
		t.Errorf("NEVRA %s, file %s (is %s)", r.NEVRA(), r.FileName(), filepath.Base(files[0]))
	}
	var provides []string
	for _, d := range r.Provides {
		provides = append(provides, d.String())
	}
	if !slices.Contains(provides, "libgreet.so.1()(64bit)") || !slices.Contains(provides, "/usr/bin/greet") || !slices.Contains(provides, "everything = 3:1.0-2") {
		t.Errorf("Provides: %v", provides)
	}
	if len(r.Obsoletes) != 1 || r.Obsoletes[0].String() != "greet < 2" || len(r.Conflicts) != 1 || r.Conflicts[0].Name != "banner" {
		t.Errorf("Obsoletes %v, Conflicts %v", r.Obsoletes, r.Conflicts)
	}
	kinds := map[string]File{}
	for _, f := range r.Files {
		kinds[f.Path] = f
	}
	for p, want := range map[string]File{
		"/opt/everything/file": {Path: "/opt/everything/file", Kind: Regular},
		"/opt/everything/dir":  {Path: "/opt/everything/dir", Kind: Dir},
		"/opt/everything/link": {Path: "/opt/everything/link", Kind: Symlink, Link: "../etc"},
		"/etc/everything.conf": {Path: "/etc/everything.conf", Kind: Regular, Ghost: true},
	} {
		if kinds[p] != want {
			t.Errorf("%s: %+v, want %+v", p, kinds[p], want)
		}
	}
	if !slices.Equal(r.Triggers, []string{"greet"}) || !slices.Equal(r.FileTriggers, []string{"/usr/bin", "/usr/lib"}) {
		t.Errorf("triggers %v, file triggers %v", r.Triggers, r.FileTriggers)
	}
}

// TestRefusesACraftedHeader: arrays that disagree are an error naming the
// file, never a panic or a half-read package.
func TestRefusesACraftedHeader(t *testing.T) {
	h := &rpmfile.Raw{Region: rpmfile.RegionImmutable}
	for _, e := range []rpmfile.Entry{rpmfile.String(1000, "crafted"), rpmfile.String(1001, "1"), rpmfile.String(1002, "1"), rpmfile.String(1022, "noarch"),
		rpmfile.Strings(1047, "a", "b"), rpmfile.Int32(1112, 0), rpmfile.Strings(1113, "", "")} {
		h.Set(e)
	}
	lead := make([]byte, 96)
	copy(lead, []byte{0xed, 0xab, 0xee, 0xdb, 3, 0})
	data := rpmfile.Assemble(lead, &rpmfile.Raw{Region: rpmfile.RegionSignatures}, h.Encode())
	_, err := Read("crafted-1-1.noarch.rpm", store.Digest(data), data)
	// rpmfile refuses it before the arrays are read (a lead that is not
	// rpm's); either way, by name.
	if err == nil || !strings.Contains(err.Error(), "rpm crafted-1-1.noarch.rpm: ") {
		t.Errorf("got %v", err)
	}
}

func rpmOf(file, name, evr, arch string) *RPM {
	v, rel, _ := strings.Cut(evr, "-")
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	return &RPM{File: file, Name: name, EVR: evr, Version: v, Release: rel, Arch: arch}
}

// TestDeclaredBites: each way a job's RPMs differ from its spec's
// declarations is named, with the file; what rpm generates is declared.
func TestDeclaredBites(t *testing.T) {
	decl := []plan.Binary{{Name: "banner", Arch: "x86_64", EVR: "1.5-2.pbl9"}, {Name: "banner-data", Arch: "noarch", EVR: "1.5-2.pbl9"}}
	cases := []struct {
		rpm  *RPM
		want string
	}{
		{rpmOf("banner-9.9-1.noarch.rpm", "banner", "99:9.9-1", "noarch"),
			"banner/x86_64: rpm banner-9.9-1.noarch.rpm: undeclared-rpm: job banner/x86_64 wrote banner-99:9.9-1.noarch, which the spec of banner does not declare for x86_64 (it declares banner-1.5-2.pbl9.x86_64, banner-data-1.5-2.pbl9.noarch)"},
		{rpmOf("other-1.5-2.pbl9.x86_64.rpm", "other", "1.5-2.pbl9", "x86_64"), "wrote other-1.5-2.pbl9.x86_64, which the spec of banner does not declare"},
		{rpmOf("banner-1.5-2.pbl9.aarch64.rpm", "banner", "1.5-2.pbl9", "aarch64"), "wrote banner-1.5-2.pbl9.aarch64"},
		{rpmOf("banner-data-debuginfo-1.5-2.pbl9.noarch.rpm", "banner-data-debuginfo", "1.5-2.pbl9", "noarch"), "wrote banner-data-debuginfo-1.5-2.pbl9.noarch"},
		{rpmOf("renamed.rpm", "banner", "1.5-2.pbl9", "x86_64"), "rpm renamed.rpm: undeclared-rpm: its header is banner-1.5-2.pbl9.x86_64, so its file would be banner-1.5-2.pbl9.x86_64.rpm"},
	}
	for _, tc := range cases {
		got := Declared("banner/x86_64", "banner", decl, []*RPM{tc.rpm}).Error()
		if !strings.Contains(got, tc.want) {
			t.Errorf("got %q\nwant %q", got, tc.want)
		}
	}
	twice := Declared("banner/x86_64", "banner", decl, []*RPM{rpmOf("banner-1.5-2.pbl9.x86_64.rpm", "banner", "1.5-2.pbl9", "x86_64"), rpmOf("banner-1.5-2.pbl9.x86_64.rpm", "banner", "1.5-2.pbl9", "x86_64")})
	if len(twice) != 1 || !strings.Contains(twice.Error(), "banner-1.5-2.pbl9.x86_64 is built twice by job banner/x86_64") {
		t.Errorf("twice: %v", twice)
	}
	var good []*RPM
	for _, n := range []string{"banner", "banner-debuginfo", "banner-debugsource"} {
		good = append(good, rpmOf(n+"-1.5-2.pbl9.x86_64.rpm", n, "1.5-2.pbl9", "x86_64"))
	}
	good = append(good, rpmOf("banner-data-1.5-2.pbl9.noarch.rpm", "banner-data", "1.5-2.pbl9", "noarch"))
	if ps := Declared("banner/x86_64", "banner", decl, good); len(ps) > 0 {
		t.Errorf("declared RPMs refused: %v", ps)
	}
	if ps := Declared("x/noarch", "x", nil, []*RPM{rpmOf("x-1-1.noarch.rpm", "x", "1-1", "noarch")}); !strings.Contains(ps.Error(), "(it declares nothing)") {
		t.Errorf("nothing declared: %v", ps)
	}
}

// TestCanonical: folders are followed through links, absolute or
// relative, with the filesystem's own; the last component is not.
func TestCanonical(t *testing.T) {
	links := map[string]string{"/opt/x": "../etc/yum.repos.d", "/opt/abs": "/etc/pki", "/loop/a": "b", "/loop/b": "a"}
	for k, v := range FilesystemLinks {
		links[k] = v
	}
	for in, want := range map[string]string{
		"/bin/greet":                 "/usr/bin/greet",
		"/lib/modules/5.14/x.ko":     "/usr/lib/modules/5.14/x.ko",
		"/etc/yum/repos.d/evil.repo": "/etc/yum.repos.d/evil.repo",
		"/opt/x/evil.repo":           "/etc/yum.repos.d/evil.repo",
		"/opt/abs/rpm-gpg/KEY":       "/etc/pki/rpm-gpg/KEY",
		"/opt/x":                     "/opt/x",
		"/bin":                       "/bin",
		"usr/./share//x/":            "/usr/share/x",
		"/usr/share/../../etc/dnf/x": "/etc/dnf/x",
	} {
		if got := Canonical(in, links); got != want {
			t.Errorf("Canonical(%s) = %s, want %s", in, got, want)
		}
	}
	if got := Canonical("/loop/a/x", links); !strings.HasPrefix(got, "/loop/") {
		t.Errorf("a loop: %s", got)
	}
}

// stubExec returns a record with the given outputs, put in the store.
type stubExec struct {
	st   *store.Store
	rpms map[string][]byte
}

func (s stubExec) Run(_ context.Context, j *build.Job, _ io.Writer) (*build.Record, error) {
	rec := &build.Record{Job: *j}
	for _, f := range slices.Sorted(maps.Keys(s.rpms)) {
		d, err := s.st.Put(s.rpms[f])
		if err != nil {
			return nil, err
		}
		rec.Outputs = append(rec.Outputs, build.Output{File: f, SHA256: d})
	}
	return rec, nil
}

// TestCheckedFailsTheJob: a job that wrote an RPM its spec does not
// declare fails, naming the file and the rule; one that did not passes.
func TestCheckedFailsTheJob(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	decl := func(pkg, arch string) []plan.Binary {
		return []plan.Binary{{Name: "tally", Arch: "x86_64", EVR: "0.9-2.pbl9"}}
	}
	good := fixtures.SyntheticRPM("tally", "0.9", "2.pbl9", 1)
	extra := fixtures.SyntheticRPM("banner", "9.9", "1", 1)
	job := &build.Job{ID: "tally/x86_64", Package: "tally", Arch: "x86_64"}
	c := &Checked{Exec: stubExec{st, map[string][]byte{"tally-0.9-2.pbl9.x86_64.rpm": good}}, Reader: &Reader{Store: st}, Declared: decl}
	if _, err := c.Run(context.Background(), job, nil); err != nil {
		t.Errorf("declared outputs refused: %v", err)
	}
	c.Exec = stubExec{st, map[string][]byte{"tally-0.9-2.pbl9.x86_64.rpm": good, "banner-9.9-1.x86_64.rpm": extra}}
	_, err = c.Run(context.Background(), job, nil)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 1 || ps[0].File != "banner-9.9-1.x86_64.rpm" || ps[0].Rule != RuleUndeclared {
		t.Errorf("an undeclared output: %v", err)
	}
}

// TestReaderCache: facts are kept by digest, so a second read needs no
// blob; a torn cache entry is read again from the store.
func TestReaderCache(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := st.Put(fixtures.SyntheticRPM("tally", "0.9", "2.pbl9", 1))
	rd := &Reader{Store: st, Cache: filepath.Join(t.TempDir(), "cache")}
	o := build.Output{File: "tally-0.9-2.pbl9.x86_64.rpm", SHA256: d}
	first, err := rd.Output(o)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(st.Path(d))
	again, err := rd.Output(o)
	if err != nil || again.NEVRA() != first.NEVRA() || len(again.Files) != 1 {
		t.Fatalf("from the cache: %v %+v", err, again)
	}
	os.WriteFile(rd.cachePath(d), []byte("{torn"), 0o644)
	if _, err := rd.Output(o); err == nil {
		t.Error("a torn cache entry was believed")
	}
}
