package compose

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/quarrylinux/quarry/testing/fixtures"
)

// richRepo builds the rich fixture packages into a fresh folder.
func richRepo(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	rpms, err := fixtures.BuildSpec(t.TempDir(), "richpkg", fixtures.RichSpec)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rpms {
		data, err := os.ReadFile(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(r)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readMD returns a repodata document of dir, decompressed.
func readMD(t *testing.T, dir, kind string) []byte {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(dir, "repodata", "*-"+kind+".xml.*"))
	if len(matches) != 1 {
		t.Fatalf("%s: %d %s files", dir, len(matches), kind)
	}
	raw, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	data, err := decompress(matches[0], raw)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// canonical flattens an XML document into one line per element, attribute
// and text, with attributes sorted, grouped per <package> and keyed by its
// checksum or pkgid, so that two writers compare by content, not layout.
func canonical(t *testing.T, doc []byte) map[string][]string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	out := map[string][]string{}
	var path []string
	var cur []string
	key := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			path = append(path, tk.Name.Local)
			if len(path) == 1 {
				continue // the document element: its count is len(out)
			}
			var attrs []string
			for _, a := range tk.Attr {
				attrs = append(attrs, a.Name.Local+"="+a.Value)
				if a.Name.Local == "pkgid" && len(path) == 2 {
					key = a.Value
				}
			}
			sort.Strings(attrs)
			cur = append(cur, strings.Join(path, "/")+" "+strings.Join(attrs, " "))
		case xml.CharData:
			if s := strings.TrimSpace(string(tk)); s != "" {
				cur = append(cur, strings.Join(path, "/")+" text="+s)
				if len(path) == 3 && path[2] == "checksum" {
					key = s
				}
			}
		case xml.EndElement:
			path = path[:len(path)-1]
			if len(path) == 1 {
				out[key] = cur
				cur, key = nil, ""
			}
		}
	}
	return out
}

// TestMatchesCreaterepo: for the same RPMs, every package entry of primary,
// filelists and other equals what createrepo_c writes.
func TestMatchesCreaterepo(t *testing.T) {
	dir := richRepo(t)
	out, err := exec.Command("createrepo_c", "--no-database", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("createrepo_c: %v\n%s", err, out)
	}
	want := map[string]map[string][]string{}
	for _, kind := range []string{"primary", "filelists", "other"} {
		want[kind] = canonical(t, readMD(t, dir, kind))
	}
	res, err := IndexDir(dir, DirOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Packages != 3 {
		t.Fatalf("indexed %d packages, want 3", res.Packages)
	}
	for _, kind := range []string{"primary", "filelists", "other"} {
		got := canonical(t, readMD(t, dir, kind))
		if len(got) != len(want[kind]) {
			t.Errorf("%s: %d packages, createrepo_c has %d", kind, len(got), len(want[kind]))
		}
		for id, w := range want[kind] {
			if d := lineDiff(w, got[id]); d != "" {
				t.Errorf("%s, package %s differs from createrepo_c (-createrepo_c +quarry):\n%s", kind, id[:12], d)
			}
		}
	}
	// The fixture really exercises what the comparison claims to cover.
	primary := string(readMD(t, dir, "primary"))
	for _, s := range []string{`<rpm:entry name="(rich-a or rich-b)"/>`, `pre="1"`, `epoch="3"`, "rpm:supplements", "rpm:enhances", "rpm:suggests", "rpm:recommends", "rpm:obsoletes", "rpm:conflicts", "Ünïcödé", "&amp;", "GLIBC_2.34"} {
		if !strings.Contains(primary, s) {
			t.Errorf("primary.xml lacks %q", s)
		}
	}
	filelists := string(readMD(t, dir, "filelists"))
	for _, s := range []string{`<file type="ghost">/var/log/rich.log</file>`, `<file type="dir">/usr/share/rich</file>`, "café.txt"} {
		if !strings.Contains(filelists, s) {
			t.Errorf("filelists.xml lacks %q", s)
		}
	}
	if strings.Contains(primary, "GLIBC_2.2.5") {
		t.Error("primary.xml keeps a lower libc.so.6 version; createrepo_c keeps only the highest")
	}
	if n := strings.Count(string(readMD(t, dir, "other")), "<changelog "); n != 3*ChangelogLimit {
		t.Errorf("other.xml has %d changelog entries, want %d per package", n, ChangelogLimit)
	}
}

func lineDiff(want, got []string) string {
	var b strings.Builder
	n := max(len(want), len(got))
	for i := 0; i < n; i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			fmt.Fprintf(&b, "- %s\n+ %s\n", w, g)
		}
	}
	return b.String()
}

// TestRepomd: repomd.xml's checksums, sizes and open checksums describe
// the files it names, for gzip and zstd alike.
func TestRepomd(t *testing.T) {
	dir := richRepo(t)
	for _, comp := range []string{Gzip, Zstd} {
		res, err := IndexDir(dir, DirOptions{CacheDir: t.TempDir(), Options: Options{Compression: comp, Comps: []byte("<comps/>\n")}})
		if err != nil {
			t.Fatal(err)
		}
		md, err := ParseRepomd(res.Repomd)
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]bool{}
		for _, r := range md.Data {
			types[r.Type] = true
		}
		for _, typ := range []string{"primary", "filelists", "other", "group", "group_" + comp} {
			if !types[typ] {
				t.Errorf("%s: repomd.xml has no %s record", comp, typ)
			}
		}
		if problems := CheckRepodata(os.DirFS(dir), ".", dir); len(problems) > 0 {
			t.Errorf("%s: %v", comp, problems)
		}
		if !regexp.MustCompile(`-primary\.xml\.` + comp + `$`).MatchString(md.Data[0].Location.Href) {
			t.Errorf("%s: primary is %s", comp, md.Data[0].Location.Href)
		}
	}
}

// TestUpdateReadsOnlyWhatChanged: an --update after adding one package
// reads that package only; an unchanged index reads nothing and writes the
// same repomd.xml.
func TestUpdateReadsOnlyWhatChanged(t *testing.T) {
	dir := richRepo(t)
	cache := t.TempDir()
	names, _ := filepath.Glob(filepath.Join(dir, "*.rpm"))
	aside := filepath.Join(t.TempDir(), filepath.Base(names[0]))
	if err := os.Rename(names[0], aside); err != nil {
		t.Fatal(err)
	}
	first, err := IndexDir(dir, DirOptions{CacheDir: cache, Update: true})
	if err != nil {
		t.Fatal(err)
	}
	if first.Read != 2 {
		t.Fatalf("first index read %d packages, want 2", first.Read)
	}
	again, err := IndexDir(dir, DirOptions{CacheDir: cache, Update: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.Read != 0 || !bytes.Equal(again.Repomd, first.Repomd) {
		t.Fatalf("unchanged update read %d packages; same repomd: %v", again.Read, bytes.Equal(again.Repomd, first.Repomd))
	}
	if err := os.Rename(aside, names[0]); err != nil {
		t.Fatal(err)
	}
	added, err := IndexDir(dir, DirOptions{CacheDir: cache, Update: true})
	if err != nil {
		t.Fatal(err)
	}
	if added.Read != 1 || added.Packages != 3 {
		t.Fatalf("after adding one: read %d of %d, want 1 of 3", added.Read, added.Packages)
	}
}

// TestCheckRepodataStaysInside: a repomd.xml whose location climbs out of
// the repository is refused by name, and the file there is not read.
func TestCheckRepodataStaysInside(t *testing.T) {
	dir := richRepo(t)
	res, err := IndexDir(dir, DirOptions{CacheDir: t.TempDir(), Options: Options{Compression: Gzip}})
	if err != nil {
		t.Fatal(err)
	}
	md := filepath.Join(dir, "repodata", "repomd.xml")
	for _, href := range []string{"../../../etc/passwd", "/etc/passwd", "repodata/../../x"} {
		bad := regexp.MustCompile(`href="[^"]*-primary\.xml\.gz"`).ReplaceAll(res.Repomd, []byte(`href="`+href+`"`))
		os.WriteFile(md, bad, 0o644)
		problems := CheckRepodata(os.DirFS(dir), ".", dir)
		want := fmt.Sprintf("%s: primary record: location %q is not a path inside the repository; not opened", md, href)
		if len(problems) != 1 || problems[0] != want {
			t.Errorf("href %s: %q\nwant %q", href, problems, want)
		}
	}
}

// decompress reads a whole repodata document, for comparisons.
func decompress(path string, data []byte) ([]byte, error) {
	var r io.Reader = bytes.NewReader(data)
	switch {
	case strings.HasSuffix(path, ".gz"):
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		r = z
	case strings.HasSuffix(path, ".zst"):
		z, err := zstd.NewReader(r)
		if err != nil {
			return nil, err
		}
		defer z.Close()
		r = z
	}
	return io.ReadAll(r)
}
