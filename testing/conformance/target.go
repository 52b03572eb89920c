package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/quarrylinux/quarry/plugins"
	sdkconf "github.com/quarrylinux/quarry/sdk/conformance"
	"github.com/quarrylinux/quarry/sdk/host"
)

// Binary targets a plugin binary, named quarry-sig-<name>, launched as
// the host launches it: hash-checked, sandboxed, over mutual TLS.
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
	return Target{SIG: sig, Config: config, Distribution: DefaultDistribution, Launcher: binary{path: abs, sig: sig}}, nil
}

type binary struct{ path, sig string }

func (binary) Process() bool { return true }

func (b binary) Launch(ctx context.Context, e *sdkconf.Env) (sdkconf.Session, error) {
	sum, err := plugins.FileSHA256(b.path)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "quarry-conformance-")
	if err != nil {
		return nil, err
	}
	e.Cleanup(func() { os.RemoveAll(work) })
	h := &plugins.Host{Dirs: []string{filepath.Dir(b.path)}, Work: work, HostVersion: "conformance",
		Lock:        &plugins.Lock{Version: 1, Plugins: map[string]*plugins.Pinned{b.sig: {Binary: filepath.Base(b.path), SHA256: sum}}},
		CallTimeout: e.Target.Timeout(), StartTimeout: 10 * time.Second, Stderr: e.Stderr()}
	p, err := h.Launch(ctx, b.sig)
	var info *plugins.InfoError
	if errors.As(err, &info) {
		return nil, &sdkconf.InfoError{Err: err}
	}
	if err != nil {
		return nil, err
	}
	return pluginSession{p}, nil
}

type pluginSession struct{ *plugins.Plugin }

func (s pluginSession) Info() host.PluginInfo { return s.Plugin.Info }
