package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/quarrylinux/quarry/sdk/internal/wire"
)

// byHand is a plugin binary run by a person rather than by quarry: it
// answers --version and --debug, and otherwise says what it is. It
// returns the exit code.
func byHand(name string, factory func() Plugin, o serveOptions, args []string, stdout, stderr io.Writer) int {
	bin := "quarry-sig-" + name
	switch {
	case len(args) == 1 && (args[0] == "--version" || args[0] == "-version" || args[0] == "version"):
		info := factory().Info()
		fmt.Fprintf(stdout, "%s %s (SIG %s; Quarry SDK %s; protocol %v)\n", bin, info.Version, name, Version, wire.APIVersions)
		return 0
	case len(args) == 1 && args[0] == "--debug":
		return debug(name, factory, o, stdout, stderr)
	case len(args) == 1 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help"):
		fmt.Fprint(stdout, usage(bin, name))
		return 0
	}
	fmt.Fprint(stderr, usage(bin, name))
	return 2
}

func usage(bin, name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is a Quarry SIG plugin (SIG %s): quarry runs it, sandboxed,\n", bin, name)
	b.WriteString("for a distribution that lists it under sigs: in quarry.yaml. Not run by hand.\n\n")
	for _, l := range [][2]string{
		{"quarry plugin lock", "pin this binary in sigs.lock"},
		{"quarry plugin check " + bin, "run the conformance suite on it"},
		{"quarry plugin dev " + name + " PATH", "use a local build without re-locking"},
		{bin + " --version", "its version, the SDK's and the protocol's"},
		{bin + " --debug", "serve it for a debugger; prints " + wire.ReattachEnv + "=..."},
	} {
		fmt.Fprintf(&b, "  %-*s  %s\n", len(bin)+22, l[0], l[1])
	}
	return b.String()
}

// debug serves the plugin in go-plugin's test mode (no handshake on
// stdout, no magic cookie, no mutual TLS) until interrupted, and prints
// the line that points quarry at it. The plugin then runs outside the
// sandbox, as whoever started it: quarry says so loudly and publishes
// nothing it made.
func debug(name string, factory func() Plugin, o serveOptions, stdout, stderr io.Writer) int {
	bin := "quarry-sig-" + name
	Logger().SetLevel(o.level)
	ch := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	served := make(chan struct{})
	go func() {
		rc, ok := <-ch
		if !ok || rc == nil {
			return
		}
		var r wire.Reattach
		r.Protocol, r.ProtocolVersion, r.Pid, r.Test = string(rc.Protocol), rc.ProtocolVersion, rc.Pid, true
		r.Addr.Network, r.Addr.String = rc.Addr.Network(), rc.Addr.String()
		data, _ := json.Marshal(map[string]wire.Reattach{name: r})
		close(served)
		fmt.Fprintf(stdout, "%s serves for debugging (pid %d), outside any sandbox. Point quarry at it with:\n\n\texport %s='%s'\n\nquarry then uses it instead of the locked binary and publishes nothing it made. Ctrl-C stops it.\n", bin, rc.Pid, wire.ReattachEnv, data)
	}()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	cfg := serveConfig(name, factory, hclog.New(&hclog.LoggerOptions{Output: stderr, Level: hclog.Info, Name: bin}))
	cfg.Test = &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: ch, CloseCh: closed}
	plugin.Serve(cfg)
	<-closed
	select {
	case <-served:
		return 0
	default:
		fmt.Fprintf(stderr, "%s: could not serve for debugging (see above)\n", bin)
		return 1
	}
}
