// Package sandbox runs build commands under bubblewrap: no network, a
// read-only view of the host's /usr and /etc, a private /tmp, and one
// writable folder (the job's) mounted at /build. Nothing else of the host —
// not Quarry's store, not its outputs — is visible.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Dir is where the job's folder appears inside the sandbox.
const Dir = "/build"

// Sandbox is one job's confinement.
type Sandbox struct {
	// Work is the host folder mounted read-write at /build.
	Work string
	// Env is the environment inside, beyond PATH, HOME and LANG.
	Env []string
	// ReadOnly and Writable are further host paths, bound at the same
	// path inside (a plugin's binary, its socket folder).
	ReadOnly []string
	Writable []string
}

// shared are the host folders a sandbox sees (read-only).
var shared = []string{"/usr", "/etc"}

// Visible reports whether a host path can be read from inside a sandbox:
// secrets (signing keys, passphrases) must not be.
func Visible(path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return true
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	for _, dir := range shared {
		if abs == dir || strings.HasPrefix(abs, dir+"/") {
			return true
		}
	}
	return false
}

// ErrNoBwrap says bubblewrap is not installed.
var ErrNoBwrap = errors.New("bwrap not found: apt-get install bubblewrap")

// Command returns the bwrap command line that runs argv in the sandbox.
func (s Sandbox) Command(argv ...string) []string {
	args := []string{"bwrap"}
	for _, dir := range shared {
		args = append(args, "--ro-bind", dir, dir)
	}
	args = append(args,
		"--symlink", "usr/bin", "/bin",
		"--symlink", "usr/sbin", "/sbin",
		"--symlink", "usr/lib", "/lib",
		"--symlink", "usr/lib64", "/lib64",
		"--proc", "/proc",
		"--dev", "/dev",
		"--tmpfs", "/tmp",
		"--bind", s.Work, Dir,
	)
	for _, p := range s.ReadOnly {
		args = append(args, "--ro-bind", p, p)
	}
	for _, p := range s.Writable {
		args = append(args, "--bind", p, p)
	}
	args = append(args,
		// Everything but /build, /tmp and Writable is read-only: a job that
		// writes elsewhere fails rather than writing somewhere invisible.
		"--remount-ro", "/",
		"--unshare-all", // network, IPC, PID, UTS, cgroup namespaces
		"--die-with-parent",
		"--new-session",
		"--chdir", Dir,
		"--clearenv",
		"--setenv", "PATH", "/usr/bin:/usr/sbin",
		"--setenv", "HOME", Dir,
		"--setenv", "LANG", "C.UTF-8",
		"--setenv", "TMPDIR", "/tmp",
	)
	for _, kv := range s.Env {
		k, v, _ := strings.Cut(kv, "=")
		args = append(args, "--setenv", k, v)
	}
	return append(append(args, "--"), argv...)
}

// Run runs argv in the sandbox with output to out (stdout and stderr
// together, as a build log).
func (s Sandbox) Run(ctx context.Context, out io.Writer, argv ...string) error {
	if _, err := exec.LookPath("bwrap"); err != nil {
		return ErrNoBwrap
	}
	if err := os.MkdirAll(s.Work, 0o755); err != nil {
		return err
	}
	line := s.Command(argv...)
	cmd := exec.CommandContext(ctx, line[0], line[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: %w", argv[0], err)
	}
	return nil
}

// Line quotes argv into one line of the shell scripts jobs run.
func Line(argv ...string) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}
