package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// build.engine: embedded runs the same jobs on an in-process JetStream
// server's workers, one per arch, and builds the same bytes: with the
// job cache gone, every job is built again there, and the publish finds
// nothing new, the RPMs and repodata being those of the local build.
func TestEmbeddedEngineBuildsTheSame(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.only([]string{"libgreet", "greet", "greet-motd"}, []string{"libgreet", "greet", "greet-motd"})
	d.keyInit()
	d.mustRun("build")
	local := d.currentID()
	before := treeDigests(t, filepath.Join(d.out(), "current"))

	d.forgetBuilds()
	d.appendConfig("build:\n  engine: embedded\n")
	stdout, stderr, code := d.run("--json", "--log-level", "info", "build", "--no-import")
	if code != 0 {
		t.Fatalf("build on the embedded engine: exit %d\n%s", code, stderr)
	}
	built, cached, nothing := 0, 0, false
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var ev struct{ Event, Status string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		switch {
		case ev.Event == "job" && ev.Status == "built":
			built++
		case ev.Event == "job" && ev.Status == "cached":
			cached++
		case ev.Event == "result" && ev.Status == "nothing":
			nothing = true
		}
	}
	if built == 0 || cached != 0 {
		t.Errorf("on the engine %d jobs built and %d cached: want every job built again", built, cached)
	}
	if !strings.Contains(stderr, "jobs run on the engine") || !strings.Contains(stderr, "embedded-x86_64") {
		t.Errorf("the jobs did not run on the embedded engine's workers:\n%s", stderr)
	}
	if !nothing || d.currentID() != local {
		t.Errorf("the engine's build published something new (%s, was %s): its RPMs differ from the local build's\n%s", d.currentID(), local, stdout)
	}
	sameTree(t, before, treeDigests(t, filepath.Join(d.out(), "current")))
}

// forgetBuilds removes the job cache, so that every job builds again.
func (d *distro) forgetBuilds() {
	d.t.Helper()
	for _, dir := range []string{"records", "latest"} {
		if err := os.RemoveAll(filepath.Join(d.state, "build", dir)); err != nil {
			d.t.Fatal(err)
		}
	}
}

// appendConfig adds text at the end of quarry.yaml.
func (d *distro) appendConfig(text string) {
	d.t.Helper()
	raw, err := os.ReadFile(d.config())
	if err != nil {
		d.t.Fatal(err)
	}
	d.writeConfig(string(raw) + "\n" + text)
}

// sameTree fails t unless after holds exactly before's files and digests.
func sameTree(t *testing.T, before, after map[string]string) {
	t.Helper()
	if len(after) != len(before) {
		t.Fatalf("the tree changed: %d files, was %d", len(after), len(before))
	}
	for f, sum := range before {
		if after[f] != sum {
			t.Errorf("%s changed", f)
		}
	}
}
