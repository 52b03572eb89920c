// Package conformance is the core's plugin conformance suite: the SDK's
// (sdk/conformance: the protocol, one check per file) and the checks only
// the core can make, one per file here: its policy gate on what the
// plugin returns, and building its packages with the core's builder. It
// runs on a plugin binary, launched as the host launches it (Binary), or
// on one served in process (InProcess). SIG leads run it from go test
// (Run); CI runs it on any binary with quarry plugin check (Check, with
// its own reporting).
package conformance

import (
	"context"
	"testing"

	sdkconf "github.com/quarrylinux/quarry/sdk/conformance"
)

// The SDK's types: a check, a level, a result, a target.
type (
	Level  = sdkconf.Level
	Result = sdkconf.Result
	Target = sdkconf.Target
	Env    = sdkconf.Env
)

// The levels and statuses.
const (
	Quick = sdkconf.Quick
	Full  = sdkconf.Full
	Pass  = sdkconf.Pass
	Fail  = sdkconf.Fail
	Skip  = sdkconf.Skip
	Error = sdkconf.Error
)

// DefaultDistribution is the core a plugin is configured for when the
// target names none.
var DefaultDistribution = sdkconf.DefaultDistribution

// InProcess targets a plugin factory served inside the test over real
// gRPC; the checks that need a process are skipped.
var InProcess = sdkconf.InProcess

var core []sdkconf.Check

func register(c sdkconf.Check) { core = append(core, c) }

// Suite is every check: the SDK's and the core's.
func Suite() sdkconf.Suite { return sdkconf.Protocol().With(core...) }

// Checks lists the suite's checks, in order, with their why.
func Checks() []Result {
	var out []Result
	for _, c := range Suite().Sorted() {
		out = append(out, Result{Check: c.Name, Why: c.Why})
	}
	return out
}

// Check runs the suite on a target at a level and returns every check's
// result, each after what it needs.
func Check(ctx context.Context, target Target, level Level) []Result {
	return Suite().Check(ctx, target, level)
}

// Run runs the suite from go test, each check a subtest of t, at the full
// level or the one given.
func Run(t *testing.T, target Target, level ...Level) []Result {
	t.Helper()
	return Suite().Run(t, target, level...)
}

// Report runs the suite as Check does and says when and on what plugin.
func Report(ctx context.Context, target Target, level Level) sdkconf.Report {
	return Suite().Report(ctx, target, level)
}
