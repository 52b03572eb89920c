package conformance

import (
	"context"
	"testing"
)

// Run runs the SDK's suite on target from go test, each check a subtest
// of t, at the full level or the one given. A failure reports the check's
// why, what went wrong and the fix.
func Run(t *testing.T, target Target, level ...Level) []Result {
	t.Helper()
	return Protocol().Run(t, target, level...)
}

// Run runs the suite on target, each check a subtest of t. Prerequisites
// a -run pattern leaves out still run, once, without a subtest of their
// own: their failure is in the skip of the check that needed them.
func (s Suite) Run(t *testing.T, target Target, level ...Level) []Result {
	t.Helper()
	lv := Full
	if len(level) > 0 {
		lv = level[0]
	}
	ev := s.evaluator(target, lv)
	t.Cleanup(ev.env.cleanup)
	var out []Result
	ran := map[string]bool{} // checks whose subtest ran
	for _, c := range s.Sorted() {
		t.Run(c.Name, func(t *testing.T) {
			ran[c.Name] = true
			r := ev.result(context.Background(), c.Name)
			out = append(out, r)
			switch {
			case r.Status == Fail || r.Status == Error:
				t.Errorf("%s (%s):\n%s", c.Name, c.Why, r.Failure())
			case r.Blocked && !ran[r.Cause]:
				// The failure has no subtest of its own to report it (a
				// -run pattern left it out): this one does.
				cause := ev.result(context.Background(), r.Cause)
				t.Errorf("%s needs %s, which failed:\n%s", c.Name, r.Cause, cause.Failure())
			case r.Status == Skip:
				t.Skip(r.Message)
			}
		})
	}
	return out
}
