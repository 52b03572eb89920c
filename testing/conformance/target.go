package conformance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/quarrylinux/quarry/plugins"
	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/host"
)

// Target is the plugin under test: a built binary (quarry-sig-<name>) or
// a plugin factory served in the test process.
type Target struct {
	SIG string
	// Config is the SIG's documented example config, as JSON; nil means
	// an empty block (its defaults).
	Config []byte
	// Distribution is what the plugin is configured for.
	Distribution sdk.Distribution
	// CallTimeout bounds each call (default 10s); the timeouts check
	// wants every call well within it.
	CallTimeout time.Duration

	binary  string
	factory func() sdk.Plugin
	tb      testing.TB
}

// DefaultDistribution is the core a plugin is configured for when the
// target names none.
var DefaultDistribution = sdk.Distribution{Name: "conformance", PrettyName: "Conformance Linux", Version: "9.4", DistTag: ".cf9", Arches: []string{"x86_64", "aarch64"}}

// Binary targets a plugin binary, named quarry-sig-<name>.
func Binary(path string, config []byte) (Target, error) {
	base := filepath.Base(path)
	sig, ok := strings.CutPrefix(base, "quarry-sig-")
	if !ok || sig == "" {
		return Target{}, fmt.Errorf("%s: a SIG plugin binary is named quarry-sig-<name>", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Target{}, err
	}
	return Target{SIG: sig, Config: config, binary: abs, Distribution: DefaultDistribution}, nil
}

// InProcess targets a plugin served inside the test over real gRPC; the
// checks that need a process are skipped.
func InProcess(tb testing.TB, sig string, factory func() sdk.Plugin, config []byte) Target {
	return Target{SIG: sig, Config: config, factory: factory, tb: tb, Distribution: DefaultDistribution}
}

func (t Target) callTimeout() time.Duration {
	if t.CallTimeout > 0 {
		return t.CallTimeout
	}
	return 10 * time.Second
}

// session is one running plugin.
type session interface {
	Info() host.PluginInfo
	Configure(ctx context.Context, req sdk.ConfigureRequest) (sdk.Diagnostics, error)
	Repos(ctx context.Context) ([]sdk.Repo, error)
	Packages(ctx context.Context) ([]sdk.Package, error)
	Kernels(ctx context.Context) ([]sdk.Kernel, error)
	Installers(ctx context.Context) ([]sdk.Installer, error)
	Stop(ctx context.Context) error
	Close()
}

// env is what checks share: the target, and a way to launch it.
type env struct {
	target Target
	mu     sync.Mutex
	stderr bytes.Buffer // raw stderr of every binary session
	dirs   []string
}

func (e *env) cleanup() {
	for _, d := range e.dirs {
		os.RemoveAll(d)
	}
}

// launch starts a fresh session.
func (e *env) launch(ctx context.Context) (session, error) {
	t := e.target
	if t.binary == "" {
		c := inProcess(t.tb, t.SIG, t.factory)
		info, err := c.Info(ctx, "conformance")
		if err != nil {
			return nil, err
		}
		return &clientSession{Client: c, info: info}, nil
	}
	sum, err := plugins.FileSHA256(t.binary)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "quarry-conformance-")
	if err != nil {
		return nil, err
	}
	e.dirs = append(e.dirs, work)
	h := &plugins.Host{Dirs: []string{filepath.Dir(t.binary)}, Work: work, HostVersion: "conformance",
		Lock:        &plugins.Lock{Version: 1, Plugins: map[string]*plugins.Pinned{t.SIG: {Binary: filepath.Base(t.binary), SHA256: sum}}},
		CallTimeout: t.callTimeout(), StartTimeout: 10 * time.Second, Stderr: lockedWriter{e}}
	p, err := h.Launch(ctx, t.SIG)
	if err != nil {
		return nil, err
	}
	return &pluginSession{p}, nil
}

// configured launches and configures with the example config.
func (e *env) configured(ctx context.Context) (session, error) {
	s, err := e.launch(ctx)
	if err != nil {
		return nil, err
	}
	diags, err := s.Configure(ctx, sdk.ConfigureRequest{Config: e.target.Config, Distribution: e.target.Distribution})
	if err != nil {
		s.Close()
		return nil, err
	}
	if diags.HasErrors() {
		s.Close()
		return nil, fmt.Errorf("the example config is refused: %s", diags)
	}
	return s, nil
}

type lockedWriter struct{ e *env }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.e.mu.Lock()
	defer w.e.mu.Unlock()
	return w.e.stderr.Write(b)
}

type pluginSession struct{ *plugins.Plugin }

func (s *pluginSession) Info() host.PluginInfo { return s.Plugin.Info }

type clientSession struct {
	*host.Client
	info host.PluginInfo
}

func (s *clientSession) Info() host.PluginInfo { return s.info }
func (s *clientSession) Close()                {}

// inProcess serves factory in the test process.
func inProcess(tb testing.TB, name string, factory func() sdk.Plugin) *host.Client {
	conn, _ := goplugin.TestPluginGRPCConn(tb, false, map[string]goplugin.Plugin{sdk.PluginName: host.GRPCPlugin(name, factory)})
	tb.Cleanup(func() { conn.Close() })
	raw, err := conn.Dispense(sdk.PluginName)
	if err != nil {
		tb.Fatal(err)
	}
	return raw.(*host.Client)
}
