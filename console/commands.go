package console

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Commands are the console's actions as quarry command lines, each its
// own process: the console's process never builds, never writes the
// published tree, and never reaches a key; the command does, as it does
// when a maintainer types it, and records its run in the history.
type Commands struct {
	Exe    string   // the quarry binary
	Global []string // its global flags (--config, --state), before the command
	Out    string   // the published tree (--out)
	// Output is the folder each action's output (its --json events and
	// its stderr) is kept in.
	Output string
	// BusyExit is the exit code of a command refused because another
	// run holds the state.
	BusyExit int
	Env      []string // added to the console's environment

	mu      sync.Mutex
	procs   map[*exec.Cmd]chan struct{} // running, each closed when it exits
	closing bool                        // Stop was called: nothing starts
}

// Build runs quarry build [--] PACKAGE..., and returns once it has
// recorded its run; it goes on running.
func (c *Commands) Build(ctx context.Context, packages []string) (Started, error) {
	args := []string{"build", "--out", c.Out}
	if len(packages) > 0 {
		args = append(append(args, "--"), packages...)
	}
	return c.start(ctx, "build", args, false)
}

// Rollback runs quarry publish --rollback, to its end.
func (c *Commands) Rollback(ctx context.Context) (Started, error) {
	return c.start(ctx, "rollback", []string{"publish", "--rollback", "--out", c.Out}, true)
}

// maxStderr is how much of a command's stderr an error quotes.
const maxStderr = 4 << 10

func (c *Commands) start(ctx context.Context, action string, args []string, wait bool) (Started, error) {
	// The output may name paths and packages: the owner's alone.
	if err := os.MkdirAll(c.Output, 0o700); err != nil {
		return Started{}, err
	}
	st := Started{Action: action, Output: filepath.Join(c.Output, time.Now().UTC().Format("20060102T150405.000000000")+"-"+action+".log")}
	out, err := os.OpenFile(st.Output, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return Started{}, err
	}
	cmd := exec.Command(c.Exe, append(append(append([]string{}, c.Global...), "--json"), args...)...)
	cmd.Env = append(os.Environ(), c.Env...)
	// Its own process group: a signal to the console is not one to the
	// build; Stop interrupts it, as a maintainer's ^C would.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr := &lastBytes{max: maxStderr}
	cmd.Stderr = io.MultiWriter(out, stderr)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		out.Close()
		return Started{}, err
	}
	// Started and registered under the lock, so that Stop sees every
	// command that started, and none starts after it.
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		out.Close()
		return Started{}, &ActionError{Action: action, Err: errors.New("the console is stopping")}
	}
	if err := cmd.Start(); err != nil {
		c.mu.Unlock()
		out.Close()
		return Started{}, &ActionError{Action: action, Err: err}
	}
	exited := make(chan struct{})
	if c.procs == nil {
		c.procs = map[*exec.Cmd]chan struct{}{}
	}
	c.procs[cmd] = exited
	c.mu.Unlock()

	// Its events, to the output file; the first that names a run says
	// the action is under way.
	run := make(chan int64, 1)
	var waitErr error
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			out.Write(append(sc.Bytes(), '\n'))
			var ev struct {
				Run int64 `json:"run"`
			}
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Run > 0 {
				select {
				case run <- ev.Run:
				default:
				}
			}
		}
		io.Copy(out, stdout)
		waitErr = cmd.Wait()
		out.Close()
		c.mu.Lock()
		delete(c.procs, cmd)
		c.mu.Unlock()
	}()
	failed := func() error {
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) && ee.ExitCode() == c.BusyExit && c.BusyExit != 0 {
			return &ActionError{Action: action, Output: stderr.String(), Err: ErrBusy}
		}
		if waitErr == nil {
			return nil
		}
		return &ActionError{Action: action, Output: stderr.String(), Err: waitErr}
	}
	select {
	case id := <-run:
		st.Run = id
	case <-exited:
		select {
		case id := <-run:
			st.Run = id
		default:
		}
	case <-ctx.Done():
		// The request is gone; the command goes on.
		return st, ctx.Err()
	}
	if st.Run == 0 {
		// Over before it recorded a run: refused, or broken.
		if err := failed(); err != nil {
			return st, err
		}
		return st, &ActionError{Action: action, Output: stderr.String(), Err: errors.New("it recorded no run")}
	}
	if !wait {
		return st, nil
	}
	select {
	case <-exited:
	case <-ctx.Done():
		return st, ctx.Err()
	}
	st.Done = true
	return st, failed()
}

// Stop interrupts the commands still running and waits for them to end
// (or ctx), as a build interrupted by ^C ends: what it finished is kept.
func (c *Commands) Stop(ctx context.Context) {
	c.mu.Lock()
	c.closing = true
	var waits []chan struct{}
	for cmd, exited := range c.procs {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		waits = append(waits, exited)
	}
	c.mu.Unlock()
	for _, w := range waits {
		select {
		case <-w:
		case <-ctx.Done():
			return
		}
	}
}

// lastBytes keeps the last max bytes written to it.
type lastBytes struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *lastBytes) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *lastBytes) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

var _ Actions = (*Commands)(nil)
