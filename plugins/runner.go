package plugins

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/quarrylinux/quarry/core/sandbox"
)

// watch is what the host learns about a plugin process beyond its
// replies: whether it wrote to stdout after the handshake, whether it
// flooded stderr, and how its stderr ended.
type watch struct {
	mu        sync.Mutex
	stdout    []byte // what followed the handshake line
	stderrN   int64
	flooded   bool
	panicked  string // the "panic: ..." line, when it crashed
	tail      []string
	maxStderr int64
	kill      func()
	tee       io.Writer // a copy of the raw stderr, when the host asks
}

func (w *watch) sawStdout(b []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.stdout) < 200 {
		w.stdout = append(w.stdout, b[:min(len(b), 200)]...)
	}
	if w.kill != nil {
		go w.kill()
	}
}

// Write counts and keeps the end of stderr (go-plugin's Stderr copy).
func (w *watch) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tee != nil {
		w.tee.Write(b)
	}
	w.stderrN += int64(len(b))
	if w.maxStderr > 0 && w.stderrN > w.maxStderr && !w.flooded {
		w.flooded = true
		if w.kill != nil {
			go w.kill()
		}
	}
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		if w.panicked == "" && (strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ")) {
			w.panicked = line
		}
		w.tail = append(w.tail, line)
	}
	if len(w.tail) > 6 {
		w.tail = w.tail[len(w.tail)-6:]
	}
	return len(b), nil
}

// problem says what the plugin did wrong, if anything.
func (w *watch) problem() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case len(w.stdout) > 0:
		return fmt.Sprintf("the plugin wrote to stdout (%q), which carries only the handshake; plugins log to stderr", bytes.TrimSpace(w.stdout))
	case w.flooded:
		return fmt.Sprintf("the plugin flooded stderr (more than %d bytes) and was stopped (plugins.limits.log in quarry.yaml)", w.maxStderr)
	}
	return ""
}

// stderrTail is the end of the plugin's stderr, after its panic line if
// it panicked (a Go stack trace buries it).
func (w *watch) stderrTail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	tail := strings.Join(w.tail, "\n")
	if w.panicked != "" && !strings.Contains(tail, w.panicked) {
		tail = w.panicked + "\n...\n" + tail
	}
	return tail
}

// runner runs a plugin process, sandboxed or not, for go-plugin.
type runner struct {
	cmd    *exec.Cmd
	name   string
	stdout io.ReadCloser
	stderr io.ReadCloser
	watch  *watch
}

// newRunner wraps go-plugin's command (the plugin binary with go-plugin's
// environment) in the plugin's sandbox: its own unprivileged ids, no
// network, the host's /usr and /etc read-only, the binary, the socket
// folder, the scratch folder (at /build), and readOnly.
func newRunner(cmd *exec.Cmd, socketDir string, box *sandbox.Box, readOnly []string, w *watch) (*runner, error) {
	box.Env = cmd.Env
	box.ReadOnly = append([]string{cmd.Path}, readOnly...)
	box.Writable = []string{socketDir}
	run, err := box.Cmd(append([]string{cmd.Path}, cmd.Args[1:]...)...)
	if err != nil {
		return nil, err
	}
	r := &runner{cmd: run, name: cmd.Path, watch: w}
	if r.stdout, err = run.StdoutPipe(); err != nil {
		return nil, err
	}
	if r.stderr, err = run.StderrPipe(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *runner) Start(context.Context) error {
	if err := r.cmd.Start(); err != nil {
		return err
	}
	r.watch.mu.Lock()
	r.watch.kill = func() { r.cmd.Process.Kill() }
	r.watch.mu.Unlock()
	return nil
}

func (r *runner) Diagnose(context.Context) string {
	if tail := r.watch.stderrTail(); tail != "" {
		return "its stderr ends:\n" + tail
	}
	return ""
}

// Stdout passes the handshake line to go-plugin and reports anything
// after it.
func (r *runner) Stdout() io.ReadCloser { return &guard{ReadCloser: r.stdout, watch: r.watch} }

func (r *runner) Stderr() io.ReadCloser { return r.stderr }
func (r *runner) Name() string          { return r.name }
func (r *runner) Wait(context.Context) error {
	return r.cmd.Wait()
}
func (r *runner) Kill(context.Context) error {
	if r.cmd.Process == nil {
		return nil
	}
	return r.cmd.Process.Kill()
}
func (r *runner) ID() string {
	if r.cmd.Process == nil {
		return ""
	}
	return strconv.Itoa(r.cmd.Process.Pid)
}
func (r *runner) PluginToHost(n, a string) (string, string, error) { return n, a, nil }
func (r *runner) HostToPlugin(n, a string) (string, string, error) { return n, a, nil }

// handshakeLine is how go-plugin's handshake begins: core version, app
// version, network.
var handshakeLine = regexp.MustCompile(`^\d+\|\d+\|(unix|tcp)\|`)

// guard lets the first line of stdout through and reports the rest. A
// first line that is not the handshake is go-plugin's to report ("wrote
// ... before its handshake"), whatever arrived with it in the same read.
type guard struct {
	io.ReadCloser
	watch   *watch
	handled bool
}

func (g *guard) Read(p []byte) (int, error) {
	n, err := g.ReadCloser.Read(p)
	if n > 0 {
		if !g.handled {
			if i := bytes.IndexByte(p[:n], '\n'); i >= 0 {
				g.handled = true
				if rest := p[i+1 : n]; len(bytes.TrimSpace(rest)) > 0 && handshakeLine.Match(p[:i]) {
					g.watch.sawStdout(rest)
				}
				return i + 1, err
			}
			return n, err
		}
		if len(bytes.TrimSpace(p[:n])) > 0 {
			g.watch.sawStdout(p[:n])
		}
	}
	return n, err
}
