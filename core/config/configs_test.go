package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/toolchain"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// The configs the example and the tests use still load under the
// stricter rules: the example as make demo reads it, the tests' copy
// without SIGs (fixtures.Distro), the SRPM upstream of core/source's
// tests, and the edits the CLI tests make.
func TestConfigsTheTestsUseLoad(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(fixtures.RepoRoot(), "examples", "distro", "quarry.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	example := string(raw)
	noSIGs := example[:strings.Index(example, fixtures.SIGMarker)]
	dg := example[strings.Index(example, "upstream:\n"):strings.Index(example, "patches:\n")]
	configs := map[string]string{
		"example":         example,
		"without SIGs":    noSIGs,
		"one arch":        strings.Replace(noSIGs, "arches: [x86_64, aarch64, ppc64le, s390x]", "arches: [x86_64]", 1),
		"srpms":           strings.Replace(noSIGs, dg, "upstream:\n  srpms: srpms\n\n", 1),
		"push":            noSIGs + "push:\n  url: downstream/{name}.git\n  branch: r{major}\n  lookaside: downstream/lookaside\n",
		"signing key":     noSIGs + "\nsigning:\n  key: /etc/pki/quarry-core.key\n",
		"gpg key":         noSIGs + "\nsigning:\n  gpg_key: 0x0123456789ABCDEF0123456789ABCDEF01234567\n  passphrase_file: pass\n",
		"published":       strings.Replace(noSIGs, "  keep: 3\n", "  keep: 3\n  url: https://mirror.example/pebble/$releasever/\n  compression: zst\n", 1),
		"test SIGs":       noSIGs + "\nsigs:\n  - name: hello\n  - name: kernel\n    config:\n      flavours: [{name: mainline}]\n  - name: dotdot\n",
		"plugin settings": noSIGs + "plugins:\n  dirs: [bin, ../../bin]\n  start_timeout: 5s\n  call_timeout: 1m\n",
	}
	for name, text := range configs {
		t.Run(name, func(t *testing.T) {
			if name != "example" && text == example {
				t.Fatal("the edit did not apply")
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "quarry.yaml")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Packages()) != 22 {
				t.Errorf("%d packages", len(c.Packages()))
			}
		})
	}
}

// version_macro may not redefine a macro Quarry writes: the reserved
// list in config follows toolchain.DistMacros.
func TestVersionMacroCannotRedefineQuarrysMacros(t *testing.T) {
	const base = "distribution:\n  name: pebble\n  version: \"9\"\n  dist_tag: .pbl9\n  vendor: V\n  packager: P\n  arches: [x86_64]\n" +
		"upstream:\n  srpms: srpms\nrepositories:\n  - name: BaseOS\n    packages: [a]\n"
	for name := range toolchain.DistMacros(config.Distribution{VersionMacro: "pebble"}) {
		if strings.HasPrefix(name, "_") || name == "pebble" || strings.ContainsAny(name, "_") {
			continue // not a plain name: version_macro cannot be one
		}
		text := strings.Replace(base, "  arches:", "  version_macro: "+name+"\n  arches:", 1)
		_, err := config.Parse("quarry.yaml", []byte(text))
		if err == nil || !strings.Contains(err.Error(), "quarry.yaml:7: distribution.version_macro: ") {
			t.Errorf("version_macro: %s: %v", name, err)
		}
	}
	if _, err := config.Parse("quarry.yaml", []byte(strings.Replace(base, "  arches:", "  version_macro: pebble\n  arches:", 1))); err != nil {
		t.Errorf("version_macro: pebble: %v", err)
	}
}
