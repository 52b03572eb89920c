package plugins

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/sdk"
	sdkhost "github.com/quarrylinux/quarry/sdk/host"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

var bins fixtures.PluginBins

// testPlugins builds every plugin under testing/plugins once per test
// process, as quarry-sig-<folder>.
func testPlugins(t *testing.T) string {
	t.Helper()
	slow(t)
	dir, err := bins.Build(fixtures.PluginPackages("testing/plugins/*", "sdk/internal/testplugins/*"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// slow skips a test under go test -short (make test-unit): every test
// plugin is built first, then each runs as its own sandboxed process.
func slow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow: builds every test plugin and runs them sandboxed (make test runs it)")
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	bins.Cleanup()
	os.Exit(code)
}

// host pins every test plugin and gives short timeouts.
func host(t *testing.T) *Host {
	dir := testPlugins(t)
	lock := &Lock{Version: 1, Plugins: map[string]*Pinned{}}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		sum, err := FileSHA256(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lock.Plugins[strings.TrimPrefix(e.Name(), "quarry-sig-")] = &Pinned{Binary: e.Name(), SHA256: sum}
	}
	return &Host{Dirs: []string{dir}, Lock: lock, Work: t.TempDir(), StartTimeout: 10 * time.Second, CallTimeout: 3 * time.Second,
		MaxStderr: 1 << 20, Log: hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Error}), HostVersion: "test"}
}

// TestGoodPlugin: a real plugin process, sandboxed, over mutual TLS.
func TestGoodPlugin(t *testing.T) {
	h := host(t)
	ctx := context.Background()
	p, err := h.Launch(ctx, "good")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.API != 1 || p.Info.Version != "1.0.0" || !p.Info.Has(sdkhost.CapPackages) || p.Info.Has(sdkhost.CapKernels) {
		t.Errorf("info %+v api %d", p.Info, p.API)
	}
	diags, err := p.Configure(ctx, sdk.ConfigureRequest{Config: []byte(`{"greeting":"hi"}`), Distribution: sdk.Distribution{Name: "pebble"}})
	if err != nil || len(diags) > 0 {
		t.Fatalf("configure: %v %v", diags, err)
	}
	pkgs, err := p.Packages(ctx)
	if err != nil || len(pkgs) != 1 || !strings.Contains(string(pkgs[0].Files[0].Data), "Summary: hi") {
		t.Errorf("packages %+v %v", pkgs, err)
	}
	if _, err := p.Kernels(ctx); !errors.Is(err, sdkhost.ErrUnsupported) {
		t.Errorf("Kernels of a plugin without kernels: %v", err)
	}
	p.Close()
	if !p.Exited() {
		t.Error("the plugin outlived Close")
	}
}

// TestHostilePlugins: each misbehaviour fails its SIG with its own message.
func TestHostilePlugins(t *testing.T) {
	h := host(t)
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	call := func(sig string, f func(p *Plugin) error) error {
		p, err := h.Launch(ctx, sig)
		if err != nil {
			return err
		}
		defer p.Close()
		if _, err := p.Configure(ctx, sdk.ConfigureRequest{Config: []byte(fmt.Sprintf(`{"addr":%q}`, ln.Addr().String()))}); err != nil {
			return err
		}
		return f(p)
	}
	repos := func(p *Plugin) error { _, err := p.Repos(ctx); return err }
	packages := func(p *Plugin) error { _, err := p.Packages(ctx); return err }
	cases := []struct {
		sig  string
		f    func(*Plugin) error
		want string
	}{
		{"stdout", repos, `sig stdout: the plugin wrote "quarry-sig-stdout starting up" to stdout before its handshake`},
		{"crash", repos, "sig crash: Repos: the plugin died during the call; its stderr ends:"},
		{"hang", repos, "sig hang: Repos: no answer within 3s; the plugin was stopped"},
		{"flood", repos, "sig flood: Configure: the plugin flooded stderr (more than 1048576 bytes) and was stopped"},
		{"garbage", packages, `sig garbage: Packages: the plugin's reply breaks the protocol: file "x.spec" of package "ghost", which was not announced`},
		{"v2only", repos, "sig v2only: no protocol version in common: incompatible API version with plugin. Plugin version: 2, Client versions: [1]; this Quarry speaks protocol major [1]"},
		// The sandbox has its own loopback, where nothing listens.
		{"network", repos, "sig network: Repos: dial tcp " + ln.Addr().String() + ": connect: connection refused"},
	}
	for _, tc := range cases {
		t.Run(tc.sig, func(t *testing.T) {
			err := call(tc.sig, tc.f)
			var se *Error
			if !errors.As(err, &se) || se.SIG != tc.sig || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant an *Error containing %q", err, tc.want)
			}
		})
	}
	if tcp := ln.(*net.TCPListener); tcp != nil {
		tcp.SetDeadline(time.Now())
		if c, err := tcp.Accept(); err == nil {
			c.Close()
			t.Error("a sandboxed plugin reached the host's network")
		}
	}
	if !strings.Contains(fmt.Sprint(call("crash", repos)), "crash: intentional panic in Repos") {
		t.Error("the crash's stderr tail does not show the panic")
	}

	// A binary that is not the one the lock pins never runs.
	h.Lock.Plugins["good"].SHA256 = strings.Repeat("0", 64)
	if _, err := h.Launch(ctx, "good"); !errors.Is(err, ErrHashMismatch) || !strings.Contains(err.Error(), "run quarry plugin lock") {
		t.Errorf("wrong hash: %v", err)
	}
	delete(h.Lock.Plugins, "good")
	if _, err := h.Launch(ctx, "good"); err == nil || !strings.Contains(err.Error(), "is not in sigs.lock") {
		t.Errorf("unpinned: %v", err)
	}
}

// TestPluginConfinement: a plugin runs as an unprivileged id range of its
// own, so host root's secrets are not its to read, and its processes and
// scratch folder stop at their limits.
func TestPluginConfinement(t *testing.T) {
	h := host(t)
	h.Limits = sandbox.Limits{Procs: 32, Disk: 64 << 20}
	secret := filepath.Join(t.TempDir(), "core.key")
	if err := os.WriteFile(secret, []byte("PRIVATE"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := h.LaunchReading(ctx, "snoop", filepath.Dir(secret))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Configure(ctx, sdk.ConfigureRequest{Config: []byte(fmt.Sprintf(`{"secret":%q,"procs":200}`, secret))}); err != nil {
		t.Fatal(err)
	}
	repos, err := p.Repos(ctx)
	if err != nil || len(repos) != 1 {
		t.Fatalf("%v %v", repos, err)
	}
	var shadow, secretRead string
	var procs int
	var disk int64
	var full bool
	if _, err := fmt.Sscanf(repos[0].Name, "shadow=%s secret=%s procs=%d disk=%d:%t", &shadow, &secretRead, &procs, &disk, &full); err != nil {
		t.Fatalf("%q: %v", repos[0].Name, err)
	}
	// Even a folder bound into its sandbox does not open host root's
	// 0600 files to it.
	if shadow != "denied" || secretRead != "denied" {
		t.Errorf("the plugin read /etc/shadow: %s, a host root 0600 file: %s", shadow, secretRead)
	}
	if procs >= 32 {
		t.Errorf("the plugin started %d processes, past its limit of 32", procs)
	}
	if !full || disk > 64<<20 {
		t.Errorf("the plugin wrote %d bytes into its scratch (limit 64 MiB), ENOSPC %v", disk, full)
	}
}
