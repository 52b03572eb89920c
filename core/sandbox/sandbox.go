// Package sandbox confines everything untrusted that Quarry runs: build
// jobs, spec queries and SIG plugins. Each runs under bubblewrap in a user
// namespace of its own, as an unprivileged host uid range that owns nothing
// on the host (the way rootless containers and mock's nspawn builders run),
// with no network, a read-only view of the host's /usr and /etc, a private
// /tmp, and one writable folder: a size-limited tmpfs mounted at /build.
// Every run is bounded in time, processes, disk and output, and what the
// host reads back from the folder is opened without following links.
//
// Quarry's store, keys and outputs are never visible inside.
package sandbox

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Dir is where the sandbox's folder appears inside.
const Dir = "/build"

// Limits bound one sandbox. Zero fields take the defaults.
type Limits struct {
	// Time is the wall-clock limit of one Run.
	Time time.Duration
	// Procs bounds the processes and threads running at once.
	Procs int
	// Disk is the size of the folder (a tmpfs), inputs included.
	Disk int64
	// Log bounds what one Run writes to stdout and stderr together.
	Log int64
	// Setting names where a user raises these limits ("build.limits"),
	// for the message when one is hit.
	Setting string
}

// DefaultLimits suit a distribution's ordinary packages; the few giants
// (kernels, browsers, office suites) raise them in quarry.yaml.
var DefaultLimits = Limits{Time: 2 * time.Hour, Procs: 1024, Disk: 8 << 30, Log: 64 << 20}

// withDefaults fills the zero fields.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.Time > 0 {
		d.Time = l.Time
	}
	if l.Procs > 0 {
		d.Procs = l.Procs
	}
	if l.Disk > 0 {
		d.Disk = l.Disk
	}
	if l.Log > 0 {
		d.Log = l.Log
	}
	d.Setting = l.Setting
	if d.Setting == "" {
		d.Setting = "build.limits"
	}
	return d
}

// LimitError is a run stopped by one of its limits.
type LimitError struct {
	Limit   string // time, processes, disk, log
	Value   string // the limit, as the config writes it
	Setting string // build.limits
}

func (e *LimitError) Error() string {
	what := map[string]string{
		"time":      "ran longer than its time limit",
		"processes": "hit its process limit",
		"disk":      "filled its disk limit",
		"log":       "wrote more output than its log limit",
	}[e.Limit]
	return fmt.Sprintf("%s (%s): raise %s.%s in quarry.yaml if it really needs more", what, e.Value, e.Setting, e.Limit)
}

// IsLimit reports whether err is a LimitError.
func IsLimit(err error) bool {
	var le *LimitError
	return errors.As(err, &le)
}

// ErrNoBwrap says bubblewrap is not installed.
var ErrNoBwrap = errors.New("bwrap not found: apt-get install bubblewrap")

// ErrNotRoot says the confinement cannot be set up: mapping a job to its
// own host uid range and mounting its tmpfs need root, as mock's do.
var ErrNotRoot = errors.New("the sandbox needs root: it runs every job and plugin as its own unprivileged uid range in a user namespace, on a size-limited tmpfs")

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

// Line quotes argv into one line of the shell scripts jobs run.
func Line(argv ...string) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}
