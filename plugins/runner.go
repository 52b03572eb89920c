package plugins

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/quarrylinux/quarry/core/safetext"
	"github.com/quarrylinux/quarry/core/sandbox"
	"golang.org/x/sys/unix"
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
	badAddr   string    // a handshake address the host refused
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
		io.WriteString(w.tee, safetext.Terminal(string(b)))
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

// handshakeRefused records a handshake naming an address the host does
// not dial.
func (w *watch) handshakeRefused(network, addr, why string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.badAddr = fmt.Sprintf("the handshake names %s address %q (%s); a plugin is reached only through the unix socket in its own folder", network, addr, why)
	if w.kill != nil {
		go w.kill()
	}
}

// problem says what the plugin did wrong, if anything.
func (w *watch) problem() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.badAddr != "":
		return w.badAddr
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
	tail := safetext.Terminal(strings.Join(w.tail, "\n"))
	if w.panicked != "" && !strings.Contains(tail, w.panicked) {
		tail = w.panicked + "\n...\n" + tail
	}
	return tail
}

// runner runs a plugin process, sandboxed or not, for go-plugin.
type runner struct {
	sockets string // the only folder whose sockets the host dials
	box     *sandbox.Box
	cmd     *exec.Cmd
	name    string
	stdout  io.ReadCloser
	stderr  io.ReadCloser
	watch   *watch
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
	r := &runner{cmd: run, name: cmd.Path, watch: w, sockets: socketDir, box: box}
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
	r.watch.kill = func() { r.cmd.Process.Kill(); r.box.Kill() }
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
	err := r.cmd.Process.Kill()
	r.box.Kill() // what outlived bwrap (Box.Kill)
	return err
}
func (r *runner) ID() string {
	if r.cmd.Process == nil {
		return ""
	}
	return strconv.Itoa(r.cmd.Process.Pid)
}

// PluginToHost is where the host dials what the handshake names: only a
// unix socket directly in the socket folder go-plugin made for this
// plugin. Anything else (a TCP address, another socket of the host's)
// would let the plugin make the host talk to something outside its
// sandbox, unpinned by sigs.lock.
//
// The folder is the plugin's to write in: the socket's name there could be
// a link to another socket of the host's. The host opens it once, without
// following a link, checks it is a socket, and dials that file through
// /proc/self/fd, whatever the name says later.
func (r *runner) PluginToHost(n, a string) (string, string, error) {
	refuse := func(why string) (string, string, error) {
		r.watch.handshakeRefused(n, a, why)
		return "", "", fmt.Errorf("the handshake names %s address %q: %s; a plugin is reached only through a unix socket in its own folder %s", n, a, why, r.sockets)
	}
	if n != "unix" || filepath.Dir(a) != filepath.Clean(r.sockets) || filepath.Base(a) == "." || filepath.Base(a) == ".." {
		return refuse("not a socket in the plugin's folder")
	}
	fd, err := unix.Open(a, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return refuse(err.Error())
	}
	f := os.NewFile(uintptr(fd), a)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		f.Close()
		return refuse("not a socket (a link, or another kind of file)")
	}
	r.box.Hold(f)
	return n, fmt.Sprintf("/proc/self/fd/%d", fd), nil
}
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
