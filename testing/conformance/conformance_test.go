package conformance

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

var bins fixtures.PluginBins

// binaries builds every plugin the suite is tried on, once: the shipped
// SIGs and the starter, and the misbehaving ones.
func binaries(t *testing.T) string {
	t.Helper()
	slow(t)
	pkgs := fixtures.PluginPackages("sigs/*", "testing/plugins/*", "sdk/internal/testplugins/*")
	pkgs["hello"] = "./examples/hello-sig"
	dir, err := bins.Build(pkgs)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// slow skips a test under go test -short (make test-unit): it builds
// every plugin and runs the whole suite on each binary, timeouts included.
func slow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow: the suite on every built plugin (make test runs it)")
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	bins.Cleanup()
	os.Exit(code)
}

// exampleConfigs are the SIG blocks of the example distribution: each
// shipped SIG's documented example.
func exampleConfigs(t *testing.T) map[string][]byte {
	t.Helper()
	cfg, err := config.Load(filepath.Join(fixtures.RepoRoot(), "examples", "distro", "quarry.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, g := range cfg.SIGs {
		if out[g.Name], err = g.ConfigJSON(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestShippedPluginsConform: every plugin in sigs/ and examples/ passes
// the full suite, with its example config.
func TestShippedPluginsConform(t *testing.T) {
	dir := binaries(t)
	configs := exampleConfigs(t)
	for _, sig := range []string{"kernel", "hpc", "cloud", "hello"} {
		t.Run(sig, func(t *testing.T) {
			t.Parallel()
			target, err := Binary(filepath.Join(dir, "quarry-sig-"+sig), configs[sig])
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range Run(t, target) {
				if r.Status == Skip {
					t.Errorf("%s skipped on a binary at the full level: %s", r.Check, r.Message)
				}
			}
		})
	}
}

// TestSuiteBites: each misbehaving plugin fails the checks meant for it,
// and no others.
func TestSuiteBites(t *testing.T) {
	dir := binaries(t)
	everything := "builds capabilities concurrent configure-example configure-rejects determinism handshake plugin-info policy sandboxed stop structured-logs timeouts"
	want := map[string]string{
		"nondeterministic": "determinism",
		"liar":             "capabilities",
		"permissive":       "configure-rejects",
		"stubborn":         "stop",
		"stdout":           everything,
		"v2only":           everything,
		"crash":            "builds capabilities concurrent determinism handshake policy sandboxed structured-logs timeouts",
		"hang":             "builds capabilities concurrent determinism handshake policy sandboxed stop timeouts",
		"network":          "builds capabilities concurrent determinism handshake policy sandboxed timeouts",
		"shadow":           "builds policy",
		"obsoletes":        "builds",
		"dotdot":           "builds policy",
		"nested":           "builds",
		"casename":         "builds policy",
		"provides":         "builds",
		"repofile":         "builds",
		"corefile":         "builds",
		"trigger":          "builds",
		"flood":            "builds capabilities concurrent configure-example configure-rejects determinism handshake policy sandboxed stop structured-logs timeouts",
		"garbage":          "builds capabilities concurrent configure-rejects determinism handshake plugin-info policy sandboxed timeouts",
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var cfg []byte
			if name == "network" {
				cfg = []byte(`{"addr":"127.0.0.1:9"}`)
			}
			target, err := Binary(filepath.Join(dir, "quarry-sig-"+name), cfg)
			if err != nil {
				t.Fatal(err)
			}
			target.CallTimeout = 4 * time.Second
			var failed []string
			for _, r := range Check(context.Background(), target, Full) {
				if r.Status == Fail {
					failed = append(failed, r.Check)
					t.Logf("%s: %s", r.Check, r.Message)
				}
			}
			if got := strings.Join(failed, " "); got != want[name] {
				t.Errorf("failed %q\nwant   %q", got, want[name])
			}
		})
	}
}
