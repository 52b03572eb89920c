package conformance

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/host"
	"github.com/quarrylinux/quarry/sdk/internal/inproc"
)

// Session is one running plugin, as the host sees it.
type Session interface {
	Info() host.PluginInfo
	Configure(ctx context.Context, req sdk.ConfigureRequest) (sdk.Diagnostics, error)
	Repos(ctx context.Context) ([]sdk.Repo, error)
	Packages(ctx context.Context) ([]sdk.Package, error)
	Kernels(ctx context.Context) ([]sdk.Kernel, error)
	Installers(ctx context.Context) ([]sdk.Installer, error)
	Stop(ctx context.Context) error
	Close()
}

// Launcher starts fresh sessions of the plugin under test.
type Launcher interface {
	// Launch starts a session and has it answer GetPluginInfo. A process
	// writes its stderr to e.Stderr(). An error the host gives for what
	// GetPluginInfo said (rather than for the launch) is an *InfoError.
	Launch(ctx context.Context, e *Env) (Session, error)
	// Process reports whether sessions are plugin processes.
	Process() bool
}

// InfoError is a launch refused for what the plugin said in
// GetPluginInfo: the handshake worked, the plugin-info check reports it.
type InfoError struct{ Err error }

func (e *InfoError) Error() string { return e.Err.Error() }
func (e *InfoError) Unwrap() error { return e.Err }

// Target is the plugin under test.
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
	Launcher    Launcher
}

// DefaultDistribution is the core a plugin is configured for when the
// target names none.
var DefaultDistribution = sdk.Distribution{Name: "conformance", PrettyName: "Conformance Linux", Version: "9.4", DistTag: ".cf9", Arches: []string{"x86_64", "aarch64"}}

// Timeout is the bound on each call.
func (t Target) Timeout() time.Duration {
	if t.CallTimeout > 0 {
		return t.CallTimeout
	}
	return 10 * time.Second
}

func (t Target) process() bool { return t.Launcher != nil && t.Launcher.Process() }

// InProcess targets a plugin factory served inside the test over real
// gRPC; the checks that need a process are skipped. It is quiet unless
// QUARRY_SDK_LOG names a level.
func InProcess(tb testing.TB, sig string, factory func() sdk.Plugin, config []byte) Target {
	return Target{SIG: sig, Config: config, Distribution: DefaultDistribution, Launcher: inProcess{tb: tb, sig: sig, factory: factory}}
}

type inProcess struct {
	tb      testing.TB
	sig     string
	factory func() sdk.Plugin
}

func (p inProcess) Process() bool { return false }

func (p inProcess) Launch(ctx context.Context, e *Env) (Session, error) {
	c, err := inproc.Serve(p.tb, p.sig, p.factory)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, e.Target.Timeout())
	defer cancel()
	info, err := c.Info(cctx, "conformance")
	if err != nil {
		return nil, fmt.Errorf("GetPluginInfo: %w", err)
	}
	return &clientSession{Client: c, info: info}, nil
}

type clientSession struct {
	*host.Client
	info host.PluginInfo
}

func (s *clientSession) Info() host.PluginInfo { return s.info }
func (s *clientSession) Close()                {}

// Env is what checks share in one run of the suite: the target, a way to
// launch it, and the stderr of every process launched.
type Env struct {
	Target   Target
	mu       sync.Mutex
	stderr   bytes.Buffer
	cleanups []func()
	info     *host.PluginInfo // the first session's
}

func (e *Env) plugin() *host.PluginInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.info
}

func newEnv(t Target) *Env {
	if t.Distribution.Name == "" {
		t.Distribution = DefaultDistribution
	}
	return &Env{Target: t}
}

// Launch starts a fresh session.
func (e *Env) Launch(ctx context.Context) (Session, error) {
	if e.Target.Launcher == nil {
		return nil, fmt.Errorf("the target has no launcher")
	}
	s, err := e.Target.Launcher.Launch(ctx, e)
	if err == nil {
		e.mu.Lock()
		if e.info == nil {
			info := s.Info()
			e.info = &info
		}
		e.mu.Unlock()
	}
	return s, err
}

// Configured launches a session and configures it with the example
// config.
func (e *Env) Configured(ctx context.Context) (Session, error) {
	s, err := e.Launch(ctx)
	if err != nil {
		return nil, err
	}
	diags, err := s.Configure(ctx, sdk.ConfigureRequest{Config: e.Target.Config, Distribution: e.Target.Distribution})
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

// Stderr is where a launcher writes its processes' stderr.
func (e *Env) Stderr() io.Writer { return lockedWriter{e} }

// Logs is everything the processes launched so far wrote to stderr.
func (e *Env) Logs() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stderr.String()
}

// Cleanup registers f to run when the suite is done with the target.
func (e *Env) Cleanup(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cleanups = append(e.cleanups, f)
}

func (e *Env) cleanup() {
	e.mu.Lock()
	fs := e.cleanups
	e.cleanups = nil
	e.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

type lockedWriter struct{ e *Env }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.e.mu.Lock()
	defer w.e.mu.Unlock()
	return w.e.stderr.Write(b)
}
