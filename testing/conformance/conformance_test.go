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
	"github.com/quarrylinux/quarry/sdk"
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
	// One cause, one failure: a check whose prerequisite failed is
	// skipped.
	want := map[string]string{
		"nondeterministic": "determinism",
		"liar":             "capabilities",
		"permissive":       "configure-rejects",
		"stubborn":         "stop",
		"stdout":           "handshake",
		"v2only":           "handshake",
		"crash":            "answers",
		"hang":             "answers",
		"network":          "answers",
		"plainlog":         "structured-logs",
		"shadow":           "policy",
		"obsoletes":        "builds",
		"dotdot":           "policy",
		"nested":           "builds",
		"casename":         "policy",
		"provides":         "builds",
		"repofile":         "builds",
		"corefile":         "builds",
		"trigger":          "builds",
		"flood":            "configure-example",
		"garbage":          "plugin-info",
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
				switch {
				case r.Status == Fail:
					failed = append(failed, r.Check)
					t.Logf("%s: %s", r.Check, r.Failure())
					if r.Fix == "" && r.Check != "builds" {
						t.Errorf("%s failed with no fix: %s", r.Check, r.Message)
					}
				case r.Status == Skip && (!r.Blocked || !strings.HasPrefix(r.Message, "needs ")):
					// On a binary at the full level every check applies.
					t.Errorf("%s skipped, not for a failed prerequisite: %s", r.Check, r.Message)
				}
			}
			if got := strings.Join(failed, " "); got != want[name] {
				t.Errorf("failed %q\nwant   %q", got, want[name])
			}
		})
	}
}

// TestFixNamesTheSDKCall: the starter's first mistake, a Configure that
// does not decode its block, fails configure-rejects alone, and the
// failure says req.Decode fixes it.
func TestFixNamesTheSDKCall(t *testing.T) {
	target := InProcess(t, "lax", func() sdk.Plugin { return lax{} }, nil)
	var got []string
	for _, r := range Check(context.Background(), target, Quick) {
		if r.Status == Fail {
			got = append(got, r.Check)
			if !strings.Contains(r.Failure(), "req.Decode(&cfg)") {
				t.Errorf("%s: the failure does not name req.Decode:\n%s", r.Check, r.Failure())
			}
		}
	}
	if strings.Join(got, " ") != "configure-rejects" {
		t.Errorf("failed %v, want configure-rejects alone", got)
	}
}

type lax struct{}

func (lax) Info() sdk.Info {
	return sdk.Info{Version: "0.1.0", Description: "configures without decoding"}
}
func (lax) Configure(context.Context, sdk.ConfigureRequest) sdk.Diagnostics { return nil }
