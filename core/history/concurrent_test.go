package history

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The reader of TestConcurrentReaders is this test binary re-executed
// with readerEnv set to the database's path: a second process, as the
// console or the CLI is to a build.
const (
	readerEnv   = "QUARRY_HISTORY_TEST_READER"
	readerJobs  = 300 // jobs per run the writer writes
	readerReads = 200
)

// TestConcurrentReaders: a writer goes through runs of readerJobs jobs,
// one job event at a time (queued, running, built), while a reader in
// another process reads Runs and Jobs over and over. No call may fail
// (database is locked), and every read must be one consistent state:
// each run's jobs all there, at most one running, and its built count
// never going back from one read to the next.
func TestConcurrentReaders(t *testing.T) {
	d, path := openTemp(t)
	newRun := func() (int64, error) {
		id, err := d.Begin(Run{Command: "build"})
		if err != nil {
			return 0, err
		}
		jobs := make([]Job, readerJobs)
		for i := range jobs {
			jobs[i] = Job{ID: fmt.Sprintf("pkg%04d.x86_64", i), Package: fmt.Sprintf("pkg%04d", i), Arch: "x86_64"}
		}
		return id, d.AddJobs(id, jobs)
	}
	first, err := newRun()
	if err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error
	var events, runs int
	wg.Add(1)
	go func() {
		defer wg.Done()
		run := first
		for {
			for i := range readerJobs {
				for _, s := range []string{Running, Built} {
					select {
					case <-done:
						return
					default:
					}
					if err := d.UpdateJob(run, Job{ID: fmt.Sprintf("pkg%04d.x86_64", i), Status: s}); err != nil {
						writeErr = err
						return
					}
					events++
				}
			}
			if err := d.Finish(run, StateSucceeded, "", nil); err != nil {
				writeErr = err
				return
			}
			runs++
			id, err := newRun()
			if err != nil {
				writeErr = err
				return
			}
			run = id
		}
	}()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), readerEnv+"="+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatalf("reader: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if writeErr != nil {
		t.Fatalf("writer: %v", writeErr)
	}
	out := strings.Fields(stdout.String())
	if len(out) < 2 || out[0] != "states" {
		t.Fatalf("reader said %q", stdout.String())
	}
	states, _ := strconv.Atoi(out[1])
	t.Logf("writer: %d job events, %d runs finished; reader: %d reads, %d distinct states seen", events, runs, readerReads, states)
	if states < 2 {
		t.Errorf("the reader saw the history change %d times: it did not read while the writer wrote", states)
	}
}

// childReader is the reader process; it returns its exit code.
func childReader(path string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, format+"\n", a...)
		return 1
	}
	d, err := OpenReadOnly(path)
	if err != nil {
		return fail("%v", err)
	}
	defer d.Close()
	built := map[int64]int{}
	seen := map[string]bool{}
	for range readerReads {
		runs, err := d.Runs(5, 0)
		if err != nil {
			return fail("Runs: %v", err)
		}
		for _, r := range runs {
			c := r.Counts
			if c.Jobs != readerJobs && c.Jobs != 0 {
				return fail("run %d: %d jobs, want %d: %+v", r.ID, c.Jobs, readerJobs, c)
			}
			if c.Queued+c.Running+c.Built+c.Interrupted != c.Jobs || c.Running > 1 {
				return fail("run %d: inconsistent counts %+v", r.ID, c)
			}
			if c.Built < built[r.ID] {
				return fail("run %d: built went from %d back to %d", r.ID, built[r.ID], c.Built)
			}
			built[r.ID] = c.Built
			seen[fmt.Sprint(r.ID, r.State, c)] = true
		}
		if len(runs) == 0 {
			return fail("no runs")
		}
		jobs, err := d.Jobs(runs[0].ID, Filter{})
		if err != nil {
			return fail("Jobs: %v", err)
		}
		if len(jobs) != 0 && len(jobs) != readerJobs {
			return fail("run %d: Jobs returned %d", runs[0].ID, len(jobs))
		}
		n, running := 0, 0
		for _, j := range jobs {
			switch j.Status {
			case Built:
				n++
			case Running:
				running++
			}
		}
		if running > 1 || n < built[runs[0].ID] {
			return fail("run %d: Jobs: %d built (Runs said %d before), %d running", runs[0].ID, n, built[runs[0].ID], running)
		}
		built[runs[0].ID] = n
		some, err := d.Jobs(runs[0].ID, Filter{Status: Built, Limit: 10})
		if err != nil {
			return fail("Jobs(built): %v", err)
		}
		for _, j := range some {
			if j.Status != Built {
				return fail("Jobs(built) returned a %s job", j.Status)
			}
		}
	}
	fmt.Println("states", len(seen))
	return 0
}
