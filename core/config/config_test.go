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

func TestExampleConfigIsValid(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "examples", "distro", "quarry.yaml")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(c.Packages()); n != 22 {
		t.Errorf("example has %d packages, want 22", n)
	}
	if !strings.HasPrefix(c.Resolve("upstream/rpms"), "/") {
		t.Errorf("Resolve gives a relative path: %s", c.Resolve("upstream/rpms"))
	}
	if _, err := os.Stat(filepath.Dir(c.Resolve("x"))); err != nil {
		t.Errorf("Resolve is not relative to the config's folder: %v", err)
	}
}
