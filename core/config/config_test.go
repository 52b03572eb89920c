package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const valid = `distribution:
  name: pebble
  version: "9.4"
  dist_tag: .pbl9
  vendor: Pebble Project
  packager: Pebble <releng@pebble.example>
  arches: [x86_64, aarch64]
upstream:
  dist_git:
    url: upstream/rpms/{name}.git
    branch: c9
  lookaside:
    url: upstream/lookaside/{name}/{filename}/{hashtype}/{hash}/{filename}
patches:
  url: upstream/patch/{name}.git
  branch: r9
  none: [b]
repositories:
  - name: BaseOS
    packages: [a, b]
  - name: CRB
    optional: true
    packages: [c]
    groups:
      - id: devel
        name: Development
        packages:
          mandatory: [c]
          optional: [c-doc]
`

func TestValidConfig(t *testing.T) {
	c, err := Parse("quarry.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Packages(), ","); got != "a,b,c" {
		t.Errorf("packages = %s", got)
	}
	if !c.HasPatches("a") || c.HasPatches("b") {
		t.Errorf("HasPatches: a=%v b=%v", c.HasPatches("a"), c.HasPatches("b"))
	}
	if c.RepositoryOf("c") != "CRB" || c.Distribution.Major() != "9" {
		t.Errorf("RepositoryOf(c)=%s major=%s", c.RepositoryOf("c"), c.Distribution.Major())
	}
}

func TestBadConfigNamesFileAndLine(t *testing.T) {
	cases := []struct {
		name, from, to, want string
	}{
		{"unknown key", "  vendor: Pebble Project\n", "  vendor: Pebble Project\n  colour: blue\n", `quarry.yaml:6: unknown key "colour" in distribution`},
		{"wrong type", "    optional: true\n", "    optional: [yes]\n", "quarry.yaml:22: cannot unmarshal"},
		{"unknown arch", "[x86_64, aarch64]", "[x86_64, armv7hl]", `quarry.yaml:7: unknown arch "armv7hl"`},
		{"duplicate arch", "[x86_64, aarch64]", "[x86_64, x86_64]", "quarry.yaml:7: arch x86_64 is listed twice"},
		{"duplicate package", "packages: [c]", "packages: [c, a]", "quarry.yaml:23: package a is listed twice (first on line 20)"},
		{"unknown none", "none: [b]", "none: [zz]", "quarry.yaml:17: patches.none names zz"},
		{"no name placeholder", "upstream/rpms/{name}.git", "upstream/rpms/x.git", "upstream.dist_git.url"},
		{"bad dist tag", ".pbl9", "pbl9", "dist_tag"},
		{"group lists a package twice", "optional: [c-doc]", "optional: [c-doc, c]", `quarry.yaml:29: repository CRB: group "devel" lists c twice (first on line 28)`},
		{"bad group id", "id: devel", "id: Devel", `group "Devel": id must be lower-case`},
		{"group without a name", "        name: Development\n", "", `group "devel": name is required`},
		{"unknown group key", "        name: Development\n", "        name: Development\n        colour: red\n", `quarry.yaml:27: unknown key "colour" in group`},
		{"both upstreams", "upstream:\n", "upstream:\n  srpms: srpms/\n", "either dist_git or srpms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(valid, tc.from) {
				t.Fatalf("test case does not apply: %q", tc.from)
			}
			_, err := Parse("quarry.yaml", []byte(strings.Replace(valid, tc.from, tc.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "examples", "distro", "quarry.yaml")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.Packages()); n != 20 {
		t.Errorf("example has %d packages, want 20", n)
	}
	if !strings.HasPrefix(c.Resolve("upstream/rpms"), "/") {
		t.Errorf("Resolve gives a relative path: %s", c.Resolve("upstream/rpms"))
	}
	if _, err := os.Stat(filepath.Dir(c.Resolve("x"))); err != nil {
		t.Errorf("Resolve is not relative to the config's folder: %v", err)
	}
}
