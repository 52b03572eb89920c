package config

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
)

// FuzzParse parses any bytes as quarry.yaml: a config error names the
// file, a config that parses can be asked for everything
// the commands ask it, and no input makes the parser allocate more than a
// bounded multiple of its size (YAML aliases can expand).
func FuzzParse(f *testing.F) {
	_, file, _, _ := runtime.Caller(0)
	example, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "examples", "distro", "quarry.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(valid))
	f.Add([]byte("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"))
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	allocated := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	f.Fuzz(func(t *testing.T, data []byte) {
		before := allocated()
		c, err := Parse("fuzz.yaml", data)
		if alloc := allocated() - before; alloc > uint64(1000*len(data)+16<<20) {
			t.Fatalf("Parse of %d bytes allocated %d", len(data), alloc)
		}
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			// Every line of it names the file.
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.yaml:") {
					t.Fatalf("an error line does not name the file: %q", line)
				}
			}
			return
		}
		c.Packages()
		c.ArchNames()
		c.PluginDirs()
		c.PushBranch()
		for _, p := range c.Packages() {
			c.RepositoryOf(p)
			c.HasPatches(p)
		}
		for i := range c.SIGs {
			if _, err := c.SIGs[i].ConfigJSON(); err != nil {
				t.Fatalf("sig %s passed validation but its config does not convert: %v", c.SIGs[i].Name, err)
			}
		}
	})
}
