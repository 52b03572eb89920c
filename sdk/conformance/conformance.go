// Package conformance is the SIG plugin conformance suite, as a library:
// one check per file, each with a name, a one-line why, what it needs
// first and, where there is one, the SDK call that fixes its failure.
//
// A SIG lead runs it from go test on a plugin served in process:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.InProcess(t, "hello", newPlugin, exampleConfig))
//	}
//
// Each check is a subtest (go test -run TestConformance/determinism runs
// one, and what it needs first). A check whose prerequisite failed is
// skipped, naming it, so one cause gives one failure. The core's
// `quarry plugin check` adds the checks only the core can make (its
// policy gate, building the packages with its builder) and runs the whole
// suite on a plugin binary, sandboxed as the host runs it.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/quarrylinux/quarry/sdk/host"
)

// Level is how deep the suite goes.
type Level int

const (
	// Quick runs the protocol and static checks: seconds.
	Quick Level = iota
	// Full adds determinism, the sandbox, timeouts and (in the core's
	// suite) building the plugin's packages.
	Full
)

// Status of a check. Error is the suite breaking (a check panicked, or
// its Needs name a missing check or loop), not the plugin failing it.
const (
	Pass  = "pass"
	Fail  = "fail"
	Skip  = "skip"
	Error = "error"
)

// Check is one conformance check.
type Check struct {
	Name string
	Why  string
	// Level is the lowest level the check runs at.
	Level Level
	// Process marks checks only a plugin process can answer (stdout,
	// stderr, the sandbox); on a plugin served in process they are
	// skipped.
	Process bool
	// Needs names the checks that must pass first. A check that does not
	// apply (above the level, or a process check in process) counts as
	// passed; one that failed, or was skipped because its own
	// prerequisite failed, skips this one.
	Needs []string
	// Fix says what fixes a failure, naming the SDK call where there is
	// one. A failure may say more with WithFix.
	Fix string
	Run func(ctx context.Context, e *Env) error
}

// Result is how one check went.
type Result struct {
	Check    string        `json:"check"`
	Why      string        `json:"why"`
	Status   string        `json:"status"`
	Message  string        `json:"message,omitempty"`
	Fix      string        `json:"fix,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// Blocked is set on a skip caused by a failed prerequisite, so that
	// its own dependents are skipped too; Cause names the check that
	// failed.
	Blocked bool   `json:"blocked,omitempty"`
	Cause   string `json:"cause,omitempty"`
}

// Failure is the whole text of a failed check: its message and the fix.
func (r Result) Failure() string {
	if r.Fix == "" {
		return r.Message
	}
	return r.Message + "\nfix: " + r.Fix
}

// fixed is an error that carries its own fix.
type fixed struct {
	err error
	fix string
}

func (f *fixed) Error() string { return f.err.Error() }
func (f *fixed) Unwrap() error { return f.err }

// WithFix attaches the fix for this failure (the SDK call, or what to
// change), overriding the check's Fix.
func WithFix(err error, fix string) error {
	if err == nil {
		return nil
	}
	return &fixed{err: err, fix: fix}
}

// Errorf is a check's failure.
func Errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// Suite is a set of checks.
type Suite []Check

// Protocol is the SDK's suite: every check a plugin answers over the
// protocol alone.
func Protocol() Suite { return append(Suite(nil), protocol...) }

var protocol Suite

func register(c Check) { protocol = append(protocol, c) }

// With is the suite with more checks.
func (s Suite) With(more ...Check) Suite { return append(append(Suite(nil), s...), more...) }

// Sorted is the suite in the order results are reported in: each check
// after what it needs, by name among those that are ready.
func (s Suite) Sorted() Suite {
	left := append(Suite(nil), s...)
	sort.SliceStable(left, func(i, j int) bool { return left[i].Name < left[j].Name })
	in := map[string]bool{}
	for _, c := range left {
		in[c.Name] = true
	}
	placed := map[string]bool{}
	var out Suite
	for len(left) > 0 {
		next := -1
		for i, c := range left {
			ready := true
			for _, n := range c.Needs {
				if in[n] && !placed[n] && n != c.Name {
					ready = false
				}
			}
			if ready {
				next = i
				break
			}
		}
		if next < 0 {
			next = 0 // a cycle: reported by the check itself
		}
		placed[left[next].Name] = true
		out = append(out, left[next])
		left = append(left[:next], left[next+1:]...)
	}
	return out
}

// Check runs every check of the suite on a target at a level and returns
// each one's result, each after what it needs.
func (s Suite) Check(ctx context.Context, target Target, level Level) []Result {
	return s.Report(ctx, target, level).Results
}

// Report is one run of a suite on a target, for a CI's report.
type Report struct {
	SIG     string
	Started time.Time
	Took    time.Duration
	// Plugin is what the plugin said in GetPluginInfo the first time it
	// was launched; nil if it never answered.
	Plugin  *host.PluginInfo
	Results []Result
}

// Report runs every check, as Check does, and says when and on what.
func (s Suite) Report(ctx context.Context, target Target, level Level) Report {
	rep := Report{SIG: target.SIG, Started: time.Now()}
	ev := s.evaluator(target, level)
	defer ev.env.cleanup()
	for _, c := range s.Sorted() {
		rep.Results = append(rep.Results, ev.result(ctx, c.Name))
	}
	rep.Took = time.Since(rep.Started)
	rep.Plugin = ev.env.plugin()
	return rep
}

// evaluator runs checks on demand, each once, prerequisites first.
type evaluator struct {
	checks   map[string]Check
	problems map[string]string // a check whose Needs are broken: why
	level    Level
	env      *Env
	done     map[string]Result
}

func (s Suite) evaluator(target Target, level Level) *evaluator {
	ev := &evaluator{checks: map[string]Check{}, level: level, env: newEnv(target), done: map[string]Result{}}
	for _, c := range s {
		ev.checks[c.Name] = c
	}
	ev.problems = s.problems(ev.checks)
	return ev
}

// problems are the checks whose Needs name a check not in the suite, or
// lead back to themselves: each is reported as an Error, never skipped
// into a silent pass. Every cycle has at least one check marked (the
// ends of the back edge a depth-first walk finds on it).
func (s Suite) problems(checks map[string]Check) map[string]string {
	out := map[string]string{}
	const (
		unseen = iota
		open
		closed
	)
	state := map[string]int{}
	var path []string
	var visit func(name string)
	visit = func(name string) {
		state[name] = open
		path = append(path, name)
		for _, n := range checks[name].Needs {
			switch {
			case checks[n].Name == "":
				out[name] = fmt.Sprintf("needs %s, which is not in the suite", n)
			case state[n] == open:
				i := slices.Index(path, n)
				cycle := strings.Join(append(slices.Clone(path[i:]), n), " → ")
				for _, c := range path[i:] {
					out[c] = "a cycle in Needs: " + cycle
				}
			case state[n] == unseen:
				visit(n)
			}
		}
		path = path[:len(path)-1]
		state[name] = closed
	}
	for _, c := range s.Sorted() {
		if state[c.Name] == unseen {
			visit(c.Name)
		}
	}
	return out
}

func (ev *evaluator) result(ctx context.Context, name string) Result {
	if r, ok := ev.done[name]; ok {
		return r
	}
	c, ok := ev.checks[name]
	if !ok {
		return Result{Check: name, Status: Fail, Message: "no such check in this suite"}
	}
	// No recursion loops: every cycle of Needs has a check in it that
	// problems marked, which is an Error without looking further.
	r := ev.evaluate(ctx, c)
	ev.done[name] = r
	return r
}

func (ev *evaluator) evaluate(ctx context.Context, c Check) Result {
	r := Result{Check: c.Name, Why: c.Why, Status: Pass}
	switch {
	case ev.problems[c.Name] != "":
		r.Status, r.Message = Error, ev.problems[c.Name]
		return r
	case c.Level > ev.level:
		r.Status, r.Message = Skip, "runs at the full level"
		return r
	case c.Process && !ev.env.Target.process():
		r.Status, r.Message = Skip, "needs a plugin process (quarry plugin check on the binary runs it)"
		return r
	}
	for _, need := range c.Needs {
		p := ev.result(ctx, need)
		switch {
		case p.Status == Fail || p.Status == Error:
			r.Status, r.Message, r.Blocked, r.Cause = Skip, fmt.Sprintf("needs %s, which failed: %s", need, firstLine(p.Message)), true, need
			return r
		case p.Blocked:
			r.Status, r.Message, r.Blocked, r.Cause = Skip, fmt.Sprintf("needs %s, which was skipped: %s", need, p.Message), true, p.Cause
			return r
		}
	}
	start := time.Now()
	err := runOne(ctx, c, ev.env)
	r.Duration = time.Since(start)
	var broke *panicked
	if errors.As(err, &broke) {
		r.Status, r.Message = Error, err.Error()
		return r
	}
	if err != nil {
		r.Status, r.Message, r.Fix = Fail, err.Error(), c.Fix
		var f *fixed
		if errors.As(err, &f) {
			r.Fix = f.fix
		}
	}
	return r
}

// runOne runs a check, turning a panic into its failure.
func runOne(ctx context.Context, c Check, e *Env) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicked{p}
		}
	}()
	return c.Run(ctx, e)
}

type panicked struct{ v any }

func (p *panicked) Error() string { return fmt.Sprintf("the check panicked: %v", p.v) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
