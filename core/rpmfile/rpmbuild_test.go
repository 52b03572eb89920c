package rpmfile_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cavaliergopher/rpm"

	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// rpmQuery is what the real rpm says of a package file: one line per
// value of the query format.
func rpmQuery(t *testing.T, path, qf string) []string {
	t.Helper()
	out, err := exec.Command("rpm", "-qp", "--nosignature", "--nodigest", "--qf", qf, path).Output()
	if err != nil {
		t.Fatalf("rpm -qp %s: %v", filepath.Base(path), err)
	}
	s := strings.TrimSuffix(string(out), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func depNames(deps []rpm.Dependency) []string {
	var out []string
	for _, d := range deps {
		out = append(out, d.Name())
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestReadsWhatRPMBuildWrote: every package rpmbuild makes of RichSpec
// (epoch, non-ASCII summary, rich and file dependencies, config, ghost
// and directory entries, subpackages) reads as the real rpm reads it:
// its NEVRA and texts, each kind of dependency, its file list, and a
// payload whose every regular file has the content rpm's FILEDIGESTS
// say; the ghost file is listed and flagged but not in the payload.
func TestReadsWhatRPMBuildWrote(t *testing.T) {
	dir := t.TempDir()
	paths, err := fixtures.BuildSpec(dir, "richpkg", fixtures.RichSpec)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Fatalf("rpmbuild wrote %v, want richpkg, -common and -debuginfo", paths)
	}
	srpm, err := fixtures.BuildSRPM(dir, "richpkg", fixtures.RichSpec)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range append(paths, srpm) {
		name := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := rpmfile.Read(name, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := rpmQuery(t, path, `%{NAME}\n%{EPOCH}\n%{VERSION}\n%{RELEASE}\n%{ARCH}\n%{SUMMARY}\n%{LICENSE}\n`)
		got := []string{f.Name(), epoch(f.Epoch()), f.Version(), f.Release(), f.Architecture(), f.Summary(), f.License()}
		if path == srpm {
			// rpm shows a source package's arch as the build's, its
			// header says noarch; the lead and SOURCEPACKAGE say source.
			want[4], got[4] = "", ""
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: read %q\nrpm says %q", name, got, want)
		}
		if f.IsSource() != (path == srpm) {
			t.Errorf("%s: IsSource is %v", name, f.IsSource())
		}
		for kind, deps := range map[string][]rpm.Dependency{
			"REQUIRE": f.Requires(), "PROVIDE": f.Provides(), "CONFLICT": f.Conflicts(), "OBSOLETE": f.Obsoletes(),
			"RECOMMEND": f.Recommends(), "SUGGEST": f.Suggests(), "SUPPLEMENT": f.Supplements(), "ENHANCE": f.Enhances(),
		} {
			if want := sorted(rpmQuery(t, path, "[%{"+kind+"NAME}\n]")); !slices.Equal(depNames(deps), want) {
				t.Errorf("%s: %sNAME: read %q\nrpm says %q", name, kind, depNames(deps), want)
			}
		}

		// The file list, in header order, and each file's content.
		listed, err := rpmfile.FilePaths(&f.Header)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wantList := rpmQuery(t, path, "[%{FILENAMES}\n]")
		if path == srpm {
			for i, p := range wantList { // rpm -qp shows a source package's files bare
				wantList[i] = strings.TrimPrefix(p, "/")
			}
		}
		if !slices.Equal(listed, wantList) {
			t.Errorf("%s: lists %q\nrpm says %q", name, listed, wantList)
		}
		files, err := f.Files()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		digests := rpmQuery(t, path, "[%{FILEDIGESTS}\n]")
		regular := 0
		for i, p := range listed {
			rel := strings.TrimPrefix(p, "/")
			if digests[i] == "" { // a folder, a link, a ghost
				if files[rel] != nil {
					t.Errorf("%s: %s has no digest in the header but is in the payload", name, p)
				}
				continue
			}
			regular++
			file := files[rel]
			if file == nil {
				t.Errorf("%s: %s is not in the payload", name, p)
				continue
			}
			if sum := sha256.Sum256(file.Data); hex.EncodeToString(sum[:]) != digests[i] {
				t.Errorf("%s: %s unpacks to other content than its FILEDIGESTS", name, p)
			}
		}
		if regular == 0 || len(files) != regular {
			t.Errorf("%s: %d files unpacked, %d regular files listed", name, len(files), regular)
		}
		ghosts, ok := f.FlaggedFiles(rpmfile.FileGhost)
		specs, _ := f.FlaggedFiles(rpmfile.FileSpecFile)
		switch {
		case !ok:
			t.Errorf("%s: no file flags read", name)
		case name == "richpkg-1.2.3-4.pbl9.noarch.rpm" && !slices.Equal(ghosts, []string{"var/log/rich.log"}):
			t.Errorf("%s: ghosts %q", name, ghosts)
		case name == "richpkg-1.2.3-4.pbl9.noarch.rpm" && files["etc/rich.conf"] == nil:
			t.Errorf("%s: no /etc/rich.conf", name)
		case name == "richpkg-1.2.3-4.pbl9.noarch.rpm" && (files["usr/bin/richtool"] == nil || !files["usr/bin/richtool"].Exec):
			t.Errorf("%s: /usr/bin/richtool is not unpacked as executable", name)
		case path == srpm && !slices.Equal(specs, []string{"richpkg.spec"}):
			t.Errorf("%s: the spec flag marks %q", name, specs)
		case path != srpm && len(specs) > 0:
			t.Errorf("%s: a binary RPM with spec files %q", name, specs)
		}
	}
}

// epoch writes an epoch as rpm's %{EPOCH} does.
func epoch(n int) string {
	if n == 0 {
		return "(none)"
	}
	return strconv.Itoa(n)
}

// TestBrokenRPMsNameTheFile: a real RPM cut short anywhere, or with a
// byte changed in its lead, headers or payload, is refused with an error
// that names the file and says what is wrong.
func TestBrokenRPMsNameTheFile(t *testing.T) {
	paths, err := fixtures.BuildSpec(t.TempDir(), "richpkg", fixtures.RichSpec)
	if err != nil {
		t.Fatal(err)
	}
	const name = "richpkg-1.2.3-4.pbl9.noarch.rpm"
	var data []byte
	for _, p := range paths {
		if filepath.Base(p) == name {
			data, _ = os.ReadFile(p)
		}
	}
	f, err := rpmfile.Read(name, data)
	if err != nil {
		t.Fatal(err)
	}
	start, end := f.HeaderRange()
	summary := bytes.Index(data[start:end], []byte("Ünïcödé"))
	if summary < 0 {
		t.Fatal("the summary is not in the main header")
	}
	flip := func(i int) []byte {
		d := slices.Clone(data)
		d[i] ^= 0x20
		return d
	}
	for what, c := range map[string]struct {
		data []byte
		want string
	}{
		"empty":                       {nil, "not an RPM: no lead"},
		"text":                        {[]byte("<html>404 Not Found</html>\n"), "not an RPM: no lead"},
		"cut in the lead":             {data[:50], "not an RPM: no lead"},
		"cut after the lead":          {data[:96], "signature header: no header magic"},
		"cut in the signature header": {data[:200], "signature header: header of"},
		"cut before the main header":  {data[:start-1], "truncated after the signature header"},
		"cut in the main header":      {data[:end-1], "header: header of"},
		"cut in the payload":          {data[:len(data)-1], "size mismatch: header and payload are"},
		"signature header magic":      {flip(97), "signature header: no header magic"},
		"main header magic":           {flip(start + 1), "header: no header magic"},
		"a byte of the summary":       {flip(start + summary), "digest mismatch"},
		"a byte of the payload":       {flip(end + 20), "digest mismatch"},
		"the payload's last byte":     {flip(len(data) - 1), "digest mismatch"},
	} {
		_, err := rpmfile.Read(name, c.data)
		if err == nil || !strings.HasPrefix(err.Error(), name+": ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q naming %s", what, err, c.want, name)
		}
		if _, err2 := rpmfile.ReadHeaders(name, c.data); err2 == nil || err == nil || err2.Error() != err.Error() {
			t.Errorf("%s: ReadHeaders says %v, Read %v", what, err2, err)
		}
	}

	// A payload broken under digests made to match (as a hostile packager
	// makes them) reads, and fails when unpacked, saying it is the payload.
	broken := slices.Clone(data)
	for i := end + 10; i < len(broken); i++ {
		broken[i] = 0
	}
	broken = fixtures.Redigest(broken)
	g, err := rpmfile.Read(name, broken)
	if err != nil {
		t.Fatalf("redigested: %v", err)
	}
	if files, err := g.Files(); err == nil || !strings.HasPrefix(err.Error(), "payload: ") {
		t.Errorf("a zeroed payload unpacks: %d files, %v", len(files), err)
	}
}
