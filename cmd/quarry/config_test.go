package main_test

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// lineOf is the line of the first s in text.
func lineOf(t *testing.T, text, s string) string {
	t.Helper()
	i := strings.Index(text, s)
	if i < 0 {
		t.Fatalf("config has no %q", s)
	}
	return strconv.Itoa(1 + strings.Count(text[:i], "\n"))
}

// TestBadConfigChangesNothing: a config whose values would reach a path,
// a macro, a repo id or a .repo file unchecked is refused by every
// command before it does anything, naming file:line and the field; the
// lock and the published tree stay byte-identical.
func TestBadConfigChangesNothing(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.only([]string{"summit-release", "tzinfo-mini"}, []string{"tzinfo-mini"})
	raw, _ := os.ReadFile(d.config())
	good := strings.Replace(string(raw), "arches: [x86_64, aarch64, ppc64le, s390x]", "arches: [x86_64]", 1) + "release:\n  package: summit-release\n"
	d.writeConfig(good)
	d.keyInit()
	d.mustRun("build")
	lock, out := d.readLock(), snapshot(t, d.out())
	if _, err := os.Stat(filepath.Join(d.out(), "current", "repos", "BaseOS", "x86_64", "Packages", "p", "pebble-release-9.4-1.pbl9.noarch.rpm")); err != nil {
		t.Fatalf("pebble-release is not published: %v", err)
	}

	cases := []struct {
		name, from, to string
		at, field      string // the line the error names, and its field
	}{
		{"version is a path", `version: "9.4"`, `version: "9.4/../../x"`, "version:", "distribution.version"},
		{"vendor writes a macro", "vendor: Pebble Project", `vendor: "Pebble\n%_topdir /tmp/evil"`, "vendor:", "distribution.vendor"},
		{"packager runs a command", "packager: Pebble Release Engineering <releng@pebble.example>", `packager: "%(touch /tmp/evil) Pebble"`, "packager:", "distribution.packager"},
		{"pretty name writes a .repo section", "pretty_name: Pebble Linux", `pretty_name: "Pebble\n[evil]\nbaseurl=http://evil/"`, "pretty_name:", "distribution.pretty_name"},
		{"a repository called source", "release:\n", "  - name: source\n    packages: [x]\nrelease:\n", "- name: source", "repositories[1].name"},
		{"baseos next to BaseOS", "release:\n", "  - name: baseos\n    packages: [x]\nrelease:\n", "- name: baseos", "repositories[1].name"},
		{"a debug repository of another", "release:\n", "  - name: BaseOS-debug\n    packages: [x]\nrelease:\n", "- name: BaseOS-debug", "repositories[1].name"},
		{"publish url adds a line", "release:\n", "publish:\n  url: \"https://mirror.example/p\\ngpgcheck=0\"\nrelease:\n", "  url: \"https", "publish.url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(good, tc.from, tc.to, 1)
			if text == good {
				t.Fatalf("config has no %q", tc.from)
			}
			d.writeConfig(text)
			want := d.config() + ":" + lineOf(t, text, tc.at) + ": " + tc.field + ": "
			for _, args := range [][]string{{"build"}, {"publish"}, {"import"}, {"plan"}} {
				stdout, stderr, code := d.run(args...)
				if code == 0 {
					t.Fatalf("quarry %s: exit 0\n%s", args[0], stdout)
				}
				if !strings.Contains(stderr, want) {
					t.Errorf("quarry %s: stderr does not name %q:\n%s", args[0], want, stderr)
				}
			}
			if !bytes.Equal(d.readLock(), lock) {
				t.Error("the lock changed")
			}
			if now := snapshot(t, d.out()); !maps.Equal(now, out) {
				t.Error("the published tree changed")
			}
		})
	}

	// An empty file says so, with its name, instead of EOF.
	for _, text := range []string{"", "\n  \n# nothing\n"} {
		d.writeConfig(text)
		_, stderr, code := d.run("build")
		if code == 0 || !strings.Contains(stderr, d.config()+":1: the file is empty") || strings.Contains(stderr, "EOF") {
			t.Errorf("empty config %q: exit %d\n%s", text, code, stderr)
		}
	}
	if !bytes.Equal(d.readLock(), lock) || !maps.Equal(snapshot(t, d.out()), out) {
		t.Error("an empty config changed the lock or the publication")
	}

	// The good config still publishes the same tree.
	d.writeConfig(good)
	d.mustRun("build")
	if !bytes.Equal(d.readLock(), lock) {
		t.Error("the lock changed after the bad configs")
	}
}
