package plugins

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/sdk"
	sdkhost "github.com/quarrylinux/quarry/sdk/host"
)

// TestDevOverride: a binary named by a dev override runs although no
// lock pins it, sandboxed as any plugin, and says what it is; an override
// that names nothing fails naming it.
func TestDevOverride(t *testing.T) {
	h := host(t)
	local := filepath.Join(t.TempDir(), "my-build")
	data, err := os.ReadFile(filepath.Join(h.Dirs[0], BinaryName("good")))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(local, data, 0o755); err != nil {
		t.Fatal(err)
	}
	h.Lock = &Lock{Version: 1, Plugins: map[string]*Pinned{}}
	h.Dev = map[string]string{"good": local, "gone": "/nonexistent/quarry-sig-gone"}
	p, err := h.Launch(context.Background(), "good")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !strings.HasPrefix(p.Dev, "dev override "+local) || p.Info.SIG != "good" {
		t.Errorf("dev %q, info %+v", p.Dev, p.Info)
	}
	if _, err := p.Repos(context.Background()); err != nil && !errors.Is(err, sdkhost.ErrUnsupported) {
		t.Errorf("repos: %v", err)
	}
	if _, err := h.Launch(context.Background(), "gone"); err == nil || !strings.Contains(err.Error(), "sig gone: dev override") {
		t.Errorf("a dev override naming nothing: %v", err)
	}
}

// TestDebugReattach: a plugin started by hand with --debug prints where
// it serves; a host given that line connects to it instead of launching
// (no lock, no binary), says so, and leaves it running for the next
// command.
func TestDebugReattach(t *testing.T) {
	h := host(t)
	cmd := exec.Command(filepath.Join(h.Dirs[0], BinaryName("good")), "--debug")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var value string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "export "+sdkhost.ReattachEnv+"='"); ok {
			value = strings.TrimSuffix(v, "'")
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	rc, err := sdkhost.ParseReattach(value)
	if err != nil || rc["good"] == nil {
		t.Fatalf("the debug line %q: %v", value, err)
	}
	h.Lock = &Lock{Version: 1, Plugins: map[string]*Pinned{}}
	h.Dirs = nil
	h.Reattach = rc
	for i := range 2 {
		p, err := h.Launch(context.Background(), "good")
		if err != nil {
			t.Fatalf("launch %d: %v", i, err)
		}
		if !strings.HasPrefix(p.Dev, "debug mode: pid ") || p.Info.SIG != "good" {
			t.Errorf("dev %q, info %+v", p.Dev, p.Info)
		}
		diags, err := p.Configure(context.Background(), sdk.ConfigureRequest{Config: []byte(`{"greeting":"hi"}`), Distribution: sdk.Distribution{Name: "pebble"}})
		if err != nil || diags.HasErrors() {
			t.Errorf("configure %d: %v %v", i, diags, err)
		}
		p.Close()
	}
	for _, bad := range []string{`{`, `{"x":{"protocol":"grpc","pid":1,"addr":{"network":"udp","string":"a"}}}`, `{"x":{"protocol":"netrpc","pid":1,"addr":{"network":"unix","string":"/s"}}}`} {
		if _, err := sdkhost.ParseReattach(bad); err == nil || !strings.Contains(err.Error(), sdkhost.ReattachEnv) {
			t.Errorf("ParseReattach(%s): %v", bad, err)
		}
	}
}
