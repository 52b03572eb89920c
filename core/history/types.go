package history

import (
	"errors"
	"time"
)

// ErrNotFound is wrapped by every error for a run or a job that is not
// in the history.
var ErrNotFound = errors.New("not found")

// A run's state.
const (
	StateRunning     = "running"
	StateSucceeded   = "succeeded"
	StateFailed      = "failed"
	StateInterrupted = "interrupted" // its process died without finishing it
	StateNothing     = "nothing"     // nothing new to publish
)

// A run's phase: the one it is in, or the one it ended in.
const (
	PhaseImport  = "import"
	PhasePlan    = "plan"
	PhaseBuild   = "build"
	PhaseGate    = "gate"
	PhaseCompose = "compose"
	PhasePublish = "publish"
)

// A job's status: the strings of core/build (which this package does not
// import, to stay a leaf), and Interrupted for a job that was queued or
// running when its run's process died.
const (
	Queued      = "queued"
	Running     = "running"
	Built       = "built"
	Cached      = "cached"
	Failed      = "failed"
	Skipped     = "skipped"
	Interrupted = "interrupted"
)

// Run is one quarry command that changes things: build, publish,
// rollback.
type Run struct {
	ID      int64     `json:"id"`
	Command string    `json:"command"`
	Args    []string  `json:"args,omitempty"`
	User    string    `json:"user"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	// Ended is zero while the run is running.
	Ended        time.Time `json:"ended,omitzero"`
	ConfigDigest string    `json:"config_digest"`
	LockDigest   string    `json:"lock_digest"` // the lock file it started from
	State        string    `json:"state"`
	Phase        string    `json:"phase"`
	Compose      string    `json:"compose,omitempty"` // the compose it published
	Errors       []string  `json:"errors,omitempty"`
	// Counts are computed from the run's jobs when it is read (stored
	// once it ended); Begin ignores them.
	Counts Counts `json:"counts"`

	counted bool // Counts were stored at its end
}

// Counts are a run's jobs by status.
type Counts struct {
	Jobs        int `json:"jobs"`
	Queued      int `json:"queued"`
	Running     int `json:"running"`
	Built       int `json:"built"`
	Cached      int `json:"cached"`
	Failed      int `json:"failed"`
	Skipped     int `json:"skipped"`
	Interrupted int `json:"interrupted"`
}

// add counts n jobs of a status.
func (c *Counts) add(status string, n int) {
	c.Jobs += n
	switch status {
	case Queued:
		c.Queued += n
	case Running:
		c.Running += n
	case Built:
		c.Built += n
	case Cached:
		c.Cached += n
	case Failed:
		c.Failed += n
	case Skipped:
		c.Skipped += n
	case Interrupted:
		c.Interrupted += n
	}
}

// Job is one job of a run: a package built for an arch.
type Job struct {
	Run     int64     `json:"run"`
	ID      string    `json:"id"` // e.g. "greet.x86_64"
	Package string    `json:"package"`
	Arch    string    `json:"arch"`
	SIG     string    `json:"sig,omitempty"` // "" for the core
	Status  string    `json:"status"`
	Started time.Time `json:"started,omitzero"`
	Ended   time.Time `json:"ended,omitzero"`
	Key     string    `json:"key,omitempty"` // its cache key
	Log     string    `json:"log,omitempty"` // sha256 of its log in the content store
	Outputs []Output  `json:"outputs,omitempty"`
	Error   string    `json:"error,omitempty"`
	Detail  string    `json:"detail,omitempty"` // the last event's detail
	// Seq orders the job writes: Filter.Since takes the jobs written
	// after one.
	Seq int64 `json:"seq"`
}

// Output is an RPM a job wrote.
type Output struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Name   string `json:"name"`
	Arch   string `json:"arch"`
}

// Compose is a compose a run published. Which one is current is the
// publication's to say, not the history's.
type Compose struct {
	ID       string    `json:"id"`
	Run      int64     `json:"run"`
	At       time.Time `json:"at"`
	Packages int       `json:"packages"`
	Repos    int       `json:"repos"`
}

// Filter narrows Jobs; empty fields match everything, Limit 0 is no
// limit.
type Filter struct {
	Package, Arch, Status string
	Limit, Offset         int
	// Since takes only the jobs written after the write of that Seq.
	Since int64
}
