package pipeline

import (
	"time"

	"github.com/quarrylinux/quarry/core/build"
)

// The phases of a run, in order.
const (
	PhaseImport    = "import"
	PhasePlan      = "plan"
	PhaseBuild     = "build"
	PhaseGate      = "gate"
	PhaseCompose   = "compose"
	PhaseInstaller = "installers"
	PhasePublish   = "publish"
)

// Kinds of Event.
const (
	EventPhase     = "phase"     // a phase starts (Phase)
	EventPackage   = "package"   // import: one package (Package, Status, Detail)
	EventJob       = "job"       // build: one job changed state
	EventSIG       = "sig"       // a SIG is ready or failed (SIG, Status, Detail)
	EventPublished = "published" // a compose was made current (Compose)
	EventNothing   = "nothing"   // nothing new: no compose was made
	EventSummary   = "summary"   // the end of a stage: its counts
	EventResult    = "result"    // a command's result: one per job of a build
)

// Event is one thing that happened in a run: the one schema of every
// command's --json lines, the console's live updates and the run
// history.
type Event struct {
	Time    time.Time     `json:"time"`
	Kind    string        `json:"event"`
	Phase   string        `json:"phase,omitempty"`
	Package string        `json:"package,omitempty"`
	Job     string        `json:"job,omitempty"`
	Arch    string        `json:"arch,omitempty"`
	SIG     string        `json:"sig,omitempty"`
	Status  string        `json:"status,omitempty"`
	Detail  string        `json:"detail,omitempty"`
	Error   string        `json:"error,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns,omitempty"`
	// Done and Total count a phase's items (packages imported, jobs).
	Done  int `json:"done,omitempty"`
	Total int `json:"total,omitempty"`
	// A finished job's cache key, log digest and outputs.
	Key     string         `json:"key,omitempty"`
	Log     string         `json:"log,omitempty"`
	Outputs []build.Output `json:"outputs,omitempty"`
	Compose string         `json:"compose,omitempty"`
	// Counts of a summary, by status.
	Counts map[string]int `json:"counts,omitempty"`
	// Jobs are the build's, with its phase event.
	Jobs []JobRef `json:"jobs,omitempty"`
	// Run is the run's id in the history (0: not recorded).
	Run int64 `json:"run,omitempty"`
}

// JobRef names one job of a build.
type JobRef struct {
	ID      string `json:"id"`
	Package string `json:"package"`
	Arch    string `json:"arch"`
	SIG     string `json:"sig,omitempty"`
}

func (p *Pipeline) emit(ev Event) {
	if p.Events == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = p.now().UTC()
	}
	ev.Run = p.run
	p.Events(ev)
}

func (p *Pipeline) phase(name string) { p.emit(Event{Kind: EventPhase, Phase: name}) }

// jobEvent turns a builder's event into the pipeline's.
func jobEvent(ev build.Event, sig string) Event {
	out := Event{Kind: EventJob, Phase: PhaseBuild, Job: ev.Job, Package: ev.Package, Arch: ev.Arch, SIG: sig, Status: ev.Status, Detail: ev.Detail, Elapsed: ev.Elapsed}
	if ev.Err != nil {
		out.Error = ev.Err.Error()
	}
	if r := ev.Record; r != nil {
		out.Key, out.Log, out.Outputs = r.Key, r.Log, r.Outputs
	}
	if be := buildError(ev.Err); be != nil {
		out.Log = be.Log
	}
	return out
}
