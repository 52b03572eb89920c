package plugins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	goplugin "github.com/hashicorp/go-plugin/runner"

	"github.com/quarrylinux/quarry/core/safetext"
	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/sdk"
	sdkhost "github.com/quarrylinux/quarry/sdk/host"
)

// Host launches SIG plugins.
type Host struct {
	// Dirs are searched, in order, for quarry-sig-<name>.
	Dirs []string
	// Lock pins every binary; a SIG missing from it does not launch.
	Lock *Lock
	// Work holds each running plugin's folder (its binary and scratch).
	Work string
	// StartTimeout bounds launch to handshake; CallTimeout each call.
	StartTimeout time.Duration
	CallTimeout  time.Duration
	// MaxStderr is how much a plugin may log before it is stopped.
	MaxStderr int64
	// MaxBytes bounds one stream of sources or an artifact.
	MaxBytes int64
	// Limits bound each plugin's processes and scratch folder; its time
	// is StartTimeout and CallTimeout, its log MaxStderr.
	Limits sandbox.Limits
	// Stderr, when set, gets a copy of every plugin's raw stderr.
	Stderr      io.Writer
	Log         hclog.Logger
	HostVersion string
	// Dev are development overrides (quarry plugin dev): by SIG, a local
	// binary run instead of the locked one, hashed at launch, sandboxed
	// as any plugin. Reattach are plugins a SIG lead started by hand in
	// debug mode (quarry-sig-NAME --debug), outside any sandbox: the
	// host connects to them instead of launching. A plugin launched
	// either way says so in Plugin.Dev, and nothing it made is published.
	Dev      map[string]string
	Reattach map[string]*plugin.ReattachConfig
}

// Unlocked says what would run instead of the SIG's locked binary: its
// dev override, or a plugin in debug mode; "" when none would.
func (h *Host) Unlocked(sig string) string {
	if rc := h.Reattach[sig]; rc != nil {
		return fmt.Sprintf("a plugin in debug mode (pid %d, %s)", rc.Pid, sdkhost.ReattachEnv)
	}
	if o := h.Dev[sig]; o != "" {
		return "the dev override " + o
	}
	return ""
}

// Defaults for the zero Host fields.
const (
	DefaultStartTimeout = 10 * time.Second
	DefaultCallTimeout  = 2 * time.Minute
	DefaultMaxStderr    = 8 << 20
)

// Error is a SIG's failure: every way a plugin can misbehave ends here,
// naming the SIG and the call.
type Error struct {
	SIG  string
	Call string // "" for the launch
	Err  error
}

func (e *Error) Error() string {
	// The SDK's client already names the call in its errors.
	if e.Call == "" || strings.HasPrefix(e.Err.Error(), e.Call+": ") {
		return fmt.Sprintf("sig %s: %v", e.SIG, e.Err)
	}
	return fmt.Sprintf("sig %s: %s: %v", e.SIG, e.Call, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrHashMismatch is a binary that is not the one sigs.lock pins.
var ErrHashMismatch = errors.New("the binary's sha256 does not match sigs.lock")

// ErrVersion is a plugin with no protocol major in common with the host.
var ErrVersion = errors.New("no protocol version in common")

// Plugin is a running, handshaken plugin.
type Plugin struct {
	SIG  string
	Info sdkhost.PluginInfo
	// API is the negotiated protocol major.
	API int
	// Dev says what ran instead of the locked binary ("" for the locked
	// binary): a dev override, or a plugin in debug mode.
	Dev string

	host    *Host
	pc      *plugin.Client
	c       *sdkhost.Client
	watch   *watch
	box     *sandbox.Box
	sockets string
	// reattached is a plugin in debug mode: its process is its user's,
	// left running for the next command (go-plugin's Kill, and even
	// closing its client, would shut it down).
	reattached bool
}

func (h *Host) startTimeout() time.Duration {
	if h.StartTimeout > 0 {
		return h.StartTimeout
	}
	return DefaultStartTimeout
}

func (h *Host) callTimeout() time.Duration {
	if h.CallTimeout > 0 {
		return h.CallTimeout
	}
	return DefaultCallTimeout
}

// InstallerCaps are what a plugin building an image keeps in its user
// namespace: dnf installs a root whose files belong to several users.
// They reach only files of the plugin's own id range; never CAP_SYS_ADMIN.
//
// Not CAP_SETUID or CAP_SETGID: the process limit is counted per uid, and
// a process that could become any of the namespace's 65536 ids could run
// that many times as many processes.
var InstallerCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_SETFCAP", "CAP_SYS_CHROOT"}

// DefaultLimits bound a plugin: it returns data, it does not build.
var DefaultLimits = sandbox.Limits{Procs: 256, Disk: 2 << 30, Setting: "plugins.limits"}

func (h *Host) limits() sandbox.Limits {
	l := h.Limits
	if l.Procs == 0 {
		l.Procs = DefaultLimits.Procs
	}
	if l.Disk == 0 {
		l.Disk = DefaultLimits.Disk
	}
	if l.Setting == "" {
		l.Setting = DefaultLimits.Setting
	}
	return l
}

func (h *Host) log() hclog.Logger {
	if h.Log == nil {
		return hclog.NewNullLogger()
	}
	return h.Log
}

// ValidVersion reports whether a plugin version is semver (1.2.3).
func ValidVersion(v string) bool { return sdkhost.ValidVersion(v) }

// Launch checks the SIG's binary against sigs.lock, runs the verified
// bytes in a sandbox, negotiates the protocol and asks the plugin who it
// is (GetPluginInfo, always first).
func (h *Host) Launch(ctx context.Context, sig string) (*Plugin, error) {
	return h.LaunchReading(ctx, sig)
}

// LaunchReading is Launch with more host folders the plugin may read,
// at the same paths: the composed publication, for BuildInstaller.
func (h *Host) LaunchReading(ctx context.Context, sig string, readOnly ...string) (*Plugin, error) {
	fail := func(err error) (*Plugin, error) { return nil, &Error{SIG: sig, Err: err} }
	rc := h.Reattach[sig]
	var bin, dev string
	if rc == nil {
		path, want, override, err := h.binaryFor(sig)
		if err != nil {
			return nil, err
		}
		if bin, err = h.verified(sig, path, want); err != nil {
			return fail(err)
		}
		if override != "" {
			// Hashed once, in verified: the copy's folder is its sha256.
			dev = fmt.Sprintf("%s (sha256 %.12s)", override, filepath.Base(filepath.Dir(bin)))
		}
	} else {
		dev = fmt.Sprintf("debug mode: pid %d at %s, outside the sandbox", rc.Pid, rc.Addr)
	}
	box, err := sandbox.Open(h.limits())
	if err != nil {
		return fail(err)
	}
	// go-plugin's unix socket goes in the box's socket folder: short
	// (socket paths are limited to 108 bytes) and a few KiB in size, so
	// that being writable by the plugin is no way around its disk limit.
	sockets, err := box.SocketDir()
	if err != nil {
		box.Close()
		return fail(err)
	}
	if len(readOnly) > 0 {
		box.Caps = InstallerCaps
	}
	p := &Plugin{SIG: sig, Dev: dev, host: h, box: box, sockets: sockets, watch: &watch{maxStderr: h.MaxStderr, tee: h.Stderr}, reattached: rc != nil}
	if p.watch.maxStderr == 0 {
		p.watch.maxStderr = DefaultMaxStderr
	}
	log := relevel{h.log().Named("sig." + sig)}
	if dev != "" {
		log.Warn("NOT THE LOCKED PLUGIN: " + dev + "; nothing built with it is published")
	}
	cc := &plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdkhost.Plugins(),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           log,
		Stderr:           p.watch,
		SyncStdout:       stdoutSink{p.watch},
		SyncStderr:       p.watch,
	}
	if rc != nil {
		// go-plugin picks a reattached plugin's set from Plugins alone.
		set, ok := sdkhost.Plugins()[rc.ProtocolVersion]
		if !ok {
			box.Close()
			return fail(fmt.Errorf("%w: the plugin in debug mode speaks protocol major %d; this Quarry speaks %v", ErrVersion, rc.ProtocolVersion, sdkhost.APIVersions))
		}
		cc.Reattach, cc.Plugins, cc.VersionedPlugins = rc, set, nil
	} else {
		cc.AutoMTLS, cc.Managed, cc.SkipHostEnv, cc.StartTimeout = true, true, true, h.startTimeout()
		cc.UnixSocketConfig = &plugin.UnixSocketConfig{TempDir: sockets}
		cc.RunnerFunc = func(_ hclog.Logger, cmd *exec.Cmd, socketDir string) (goplugin.Runner, error) {
			cmd.Path, cmd.Args = bin, []string{bin}
			return newRunner(cmd, socketDir, box, readOnly, p.watch)
		}
	}
	p.pc = plugin.NewClient(cc)
	rpc, err := p.pc.Client()
	if err != nil {
		p.Close()
		return fail(p.launchError(err))
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		p.Close()
		return fail(err)
	}
	p.c = raw.(*sdkhost.Client)
	p.c.MaxBytes = h.MaxBytes
	p.API = p.pc.NegotiatedVersion()
	cctx, cancel := p.call(ctx)
	defer cancel()
	info, err := p.c.Info(cctx, h.HostVersion)
	if err != nil {
		p.Close()
		return fail(p.explain("GetPluginInfo", cctx, err))
	}
	if err := checkInfo(sig, p.API, info); err != nil {
		p.Close()
		return fail(&InfoError{Err: err})
	}
	p.Info = info
	return p, nil
}

// binaryFor is the SIG's binary and the sha256 it must have: the one
// sigs.lock pins, or none for a dev override (whatever it hashes to when
// it is copied). override describes a dev override ("" for the locked
// binary).
func (h *Host) binaryFor(sig string) (path, sum, override string, err error) {
	if o := h.Dev[sig]; o != "" {
		if _, err := os.Stat(o); err != nil {
			return "", "", "", &Error{SIG: sig, Err: fmt.Errorf("dev override: %w", err)}
		}
		return o, "", "dev override " + o, nil
	}
	if path, err = Find(sig, h.Dirs); err != nil {
		return "", "", "", err
	}
	pinned := h.Lock.Plugins[sig]
	if pinned == nil {
		return "", "", "", &Error{SIG: sig, Err: fmt.Errorf("%s is not in %s: run quarry plugin lock", path, LockFile)}
	}
	return path, pinned.SHA256, "", nil
}

// InfoError is a launch refused for what the plugin said in
// GetPluginInfo: it answered, and what it said is wrong.
type InfoError struct{ Err error }

func (e *InfoError) Error() string { return "GetPluginInfo: " + e.Err.Error() }
func (e *InfoError) Unwrap() error { return e.Err }

// checkInfo is what GetPluginInfo must say.
func checkInfo(sig string, api int, info sdkhost.PluginInfo) error {
	switch {
	case info.SIG != sig:
		return fmt.Errorf("the plugin says it is SIG %q, not %q", info.SIG, sig)
	case !ValidVersion(info.Version):
		return fmt.Errorf("plugin version %q is not semver (1.2.3)", info.Version)
	case safetext.LineProblem(info.Description, 200) != "":
		return fmt.Errorf("its description %s", safetext.LineProblem(info.Description, 200))
	case !slices.Contains(info.APIVersions, uint32(api)):
		return fmt.Errorf("the plugin lists API versions %v, without the %d it negotiated", info.APIVersions, api)
	}
	for _, c := range info.Capabilities {
		if strings.HasPrefix(string(c), "unknown(") {
			return fmt.Errorf("unknown capability %s", c)
		}
	}
	return nil
}

// launchError explains a failed launch.
func (p *Plugin) launchError(err error) error {
	msg := err.Error()
	if problem := p.watch.problem(); problem != "" {
		return errors.New(problem)
	}
	switch {
	case strings.Contains(strings.ToLower(msg), "incompatible api version"):
		return fmt.Errorf("%w: %s; this Quarry speaks protocol major %v: rebuild the plugin with a Quarry SDK that speaks it, or use a Quarry that speaks the plugin's", ErrVersion, firstLine(msg), sdkhost.APIVersions)
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		line := strings.TrimPrefix(firstLine(msg), "Unrecognized remote plugin message: ")
		if strings.TrimSpace(line) == "" {
			return fmt.Errorf("the plugin exited before its handshake%s", p.tail())
		}
		return fmt.Errorf("the plugin wrote %q to stdout before its handshake; stdout carries only the handshake, plugins log to stderr", line)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("no handshake within %s (plugins.start_timeout in quarry.yaml)", p.host.startTimeout())
	case strings.Contains(msg, "plugin exited before we could connect"):
		return fmt.Errorf("the plugin exited before its handshake%s", p.tail())
	}
	return err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func (p *Plugin) tail() string {
	if t := p.watch.stderrTail(); t != "" {
		return "; its stderr ends:\n" + t
	}
	return ""
}

// call bounds one call by the host's call timeout.
func (p *Plugin) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, p.host.callTimeout())
}

// explain turns a failed call into what happened to the plugin.
func (p *Plugin) explain(call string, ctx context.Context, err error) error {
	if problem := p.watch.problem(); problem != "" {
		p.kill()
		return errors.New(problem)
	}
	// gRPC may give up on the deadline a moment before the context's own
	// timer fires: the clock decides.
	if dl, ok := ctx.Deadline(); errors.Is(ctx.Err(), context.DeadlineExceeded) || ok && !time.Now().Before(dl) {
		p.kill()
		return fmt.Errorf("no answer within %s; the plugin was stopped (raise plugins.call_timeout in quarry.yaml if it really needs longer)", p.host.callTimeout())
	}
	if p.pc.Exited() || strings.Contains(err.Error(), "Unavailable") {
		p.kill()
		return fmt.Errorf("the plugin died during the call%s%s", p.limitHit(), p.tail())
	}
	return fmt.Errorf("%w%s", err, p.limitHit())
}

// limitHit says which of its sandbox's limits a failing plugin ran into,
// if one shows: a full scratch folder, or forks refused (EAGAIN).
func (p *Plugin) limitHit() string {
	l := p.box.Limits()
	tail := p.watch.stderrTail()
	if p.box.Full(tail) {
		return fmt.Sprintf(" (its scratch folder is full: raise %s.disk, %s, in quarry.yaml if it really needs more)", l.Setting, sandbox.Size(l.Disk))
	}
	if sandbox.ForkFailed(tail) {
		return fmt.Sprintf(" (it hit its process limit: raise %s.processes, %d, in quarry.yaml if it really needs more)", l.Setting, l.Procs)
	}
	return ""
}

// stopGrace is how long Close waits for go-plugin's cooperative stop (its
// own grace is 2 s, then it kills the plugin) before it kills what holds
// the plugin's pipes open.
const stopGrace = 5 * time.Second

// Close stops the plugin, cooperatively, and removes its folder. A plugin
// that ends when asked ends cleanly (no "signal: killed" in the log);
// what outlived bwrap, holding the pipes go-plugin waits for, is killed
// after the grace.
func (p *Plugin) Close() {
	if p.pc != nil && !p.reattached {
		done := make(chan struct{})
		go func() {
			defer close(done)
			p.pc.Kill()
		}()
		select {
		case <-done:
		case <-time.After(stopGrace):
			p.box.Kill()
			<-done
		}
	}
	p.box.Close()
}

// kill stops the plugin: every process of its sandbox first, since
// go-plugin's Kill waits for the plugin's pipes to close, which a process
// that outlived bwrap would hold open forever.
func (p *Plugin) kill() {
	p.box.Kill()
	if p.pc != nil && !p.reattached {
		p.pc.Kill()
	}
}

// Exited reports whether the plugin process has ended.
func (p *Plugin) Exited() bool { return p.pc.Exited() }

// Scratch is the plugin's writable folder on the host: what the plugin
// left there is read back only through the sandbox's readers.
func (p *Plugin) Scratch() string { return p.box.Dir() }

// stdoutSink receives what the plugin printed to os.Stdout after the
// handshake (go-plugin forwards it): a plugin that does is stopped.
type stdoutSink struct{ w *watch }

func (s stdoutSink) Write(b []byte) (int, error) {
	if len(strings.TrimSpace(string(b))) > 0 {
		s.w.sawStdout(b)
	}
	return len(b), nil
}
