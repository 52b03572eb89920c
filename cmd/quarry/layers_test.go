package main_test

import "testing"

// slow skips a test under go test -short (make test-unit): one that
// imports, builds in the buildroots, publishes or installs with dnf, end
// to end through the binary. make test runs it.
func slow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow: end to end (make test runs it)")
	}
}
