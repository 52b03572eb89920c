// Package conformance is the plugin conformance suite: one check per file,
// each with a name, a short why and a clear failure. SIG leads run it from
// go test (Run, on a built binary or an in-process plugin); CI runs it on
// any binary with quarry plugin check (Check, with its own reporting).
package conformance

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Level is how deep the suite goes.
type Level int

const (
	// Quick runs the protocol and static checks: seconds.
	Quick Level = iota
	// Full adds determinism, the sandbox, timeouts and building the
	// plugin's packages with the core's builder.
	Full
)

// Status of a check.
const (
	Pass = "pass"
	Fail = "fail"
	Skip = "skip"
)

// check is one conformance check.
type check struct {
	name string
	why  string
	// level is the lowest level the check runs at.
	level Level
	// binary marks checks only a plugin process can answer (stdout, the
	// sandbox, stderr); in process they are skipped.
	binary bool
	run    func(ctx context.Context, e *env) error
}

var checks []check

func register(c check) { checks = append(checks, c) }

// Result is how one check went.
type Result struct {
	Check    string        `json:"check"`
	Why      string        `json:"why"`
	Status   string        `json:"status"`
	Message  string        `json:"message,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Checks lists the suite's checks, in order, with their why.
func Checks() []Result {
	var out []Result
	for _, c := range sorted() {
		out = append(out, Result{Check: c.name, Why: c.why})
	}
	return out
}

func sorted() []check {
	out := append([]check(nil), checks...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Check runs the suite on a target at a level and returns every check's
// result, in name order.
func Check(ctx context.Context, target Target, level Level) []Result {
	e := &env{target: target}
	defer e.cleanup()
	var out []Result
	for _, c := range sorted() {
		r := Result{Check: c.name, Why: c.why, Status: Pass}
		start := time.Now()
		switch {
		case c.level > level:
			r.Status, r.Message = Skip, "runs at the full level"
		case c.binary && target.binary == "":
			r.Status, r.Message = Skip, "needs a plugin binary"
		default:
			if err := runOne(ctx, c, e); err != nil {
				r.Status, r.Message = Fail, err.Error()
			}
		}
		r.Duration = time.Since(start)
		out = append(out, r)
	}
	return out
}

// runOne runs a check, turning a panic into its failure.
func runOne(ctx context.Context, c check, e *env) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the check panicked: %v", p)
		}
	}()
	return c.run(ctx, e)
}

// T is what Run reports to; *testing.T is one.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
}

// Run runs the suite at the full level (or the given one) and reports
// each failing check to t.
func Run(t T, target Target, level ...Level) []Result {
	t.Helper()
	lv := Full
	if len(level) > 0 {
		lv = level[0]
	}
	results := Check(context.Background(), target, lv)
	for _, r := range results {
		switch r.Status {
		case Fail:
			t.Errorf("conformance %s (%s): %s", r.Check, r.Why, r.Message)
		case Skip:
			t.Logf("conformance %s: skipped: %s", r.Check, r.Message)
		}
	}
	return results
}
