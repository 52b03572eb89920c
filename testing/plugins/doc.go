// Package plugins holds SIG plugins that misbehave, one per folder, each
// built by the tests into quarry-sig-<folder>: the host (and the
// conformance suite) must fail each with its own clear message. good is
// the well-behaved baseline.
package plugins
