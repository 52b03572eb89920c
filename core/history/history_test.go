package history

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/build"
)

// TestMain runs the child reader of TestConcurrentReaders when the test
// binary is re-executed as one.
func TestMain(m *testing.M) {
	if path := os.Getenv(readerEnv); path != "" {
		os.Exit(childReader(path))
	}
	os.Exit(m.Run())
}

func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "history.db")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, path
}

func openRO(t *testing.T, path string) *DB {
	t.Helper()
	d, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// at is a time as the history returns it (Unix nanoseconds, local zone),
// so that read-back values compare with reflect.DeepEqual.
func at(sec int64) time.Time { return time.Unix(sec, 123456789) }

func TestStatusesAreCoreBuilds(t *testing.T) {
	for ours, theirs := range map[string]string{Queued: build.Queued, Running: build.Running, Built: build.Built,
		Cached: build.Cached, Failed: build.Failed, Skipped: build.Skipped} {
		if ours != theirs {
			t.Errorf("status %q here is %q in core/build", ours, theirs)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	d, path := openTemp(t)
	in := Run{Command: "build", Args: []string{"--arch", "x86_64"}, User: "builder", Host: d.host, PID: os.Getpid(),
		Started: at(1700000000), ConfigDigest: "sha256:cfg", LockDigest: "sha256:lock", Phase: PhaseImport}
	id, err := d.Begin(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetPhase(id, PhaseBuild); err != nil {
		t.Fatal(err)
	}
	jobs := []Job{
		{ID: "greet.x86_64", Package: "greet", Arch: "x86_64", Key: "k1"},
		{ID: "greet.aarch64", Package: "greet", Arch: "aarch64", Key: "k2"},
		{ID: "kmod.x86_64", Package: "kmod", Arch: "x86_64", SIG: "kernel", Key: "k3"},
		{ID: "zed.x86_64", Package: "zed", Arch: "x86_64", Key: "k4"},
	}
	if err := d.AddJobs(id, jobs); err != nil {
		t.Fatal(err)
	}
	running, err := d.Run(id)
	if err != nil {
		t.Fatal(err)
	}
	if running.State != StateRunning || !running.Ended.IsZero() || running.Counts != (Counts{Jobs: 4, Queued: 4}) {
		t.Errorf("running run: %+v", running)
	}
	b, _ := json.Marshal(running)
	if strings.Contains(string(b), `"ended"`) || !strings.Contains(string(b), `"config_digest":"sha256:cfg"`) ||
		!strings.Contains(string(b), `"counts":{"jobs":4,"queued":4,`) {
		t.Errorf("running run's JSON: %s", b)
	}
	if cur, ok, err := d.Current(); err != nil || !ok || cur.ID != id {
		t.Errorf("Current = %d %v %v, want run %d", cur.ID, ok, err, id)
	}

	// One event at a time, each carrying only what it knows.
	outs := []Output{{File: "greet-1.0-1.x86_64.rpm", SHA256: "aa", Name: "greet", Arch: "x86_64"},
		{File: "greet-doc-1.0-1.noarch.rpm", SHA256: "bb", Name: "greet-doc", Arch: "noarch"}}
	events := []Job{
		{ID: "greet.x86_64", Status: Running, Started: at(1700000010), Detail: "rpmbuild"},
		{ID: "greet.x86_64", Status: Built, Ended: at(1700000020), Log: "loghash", Outputs: outs, Detail: "2 rpms"},
		{ID: "greet.aarch64", Status: Cached, Started: at(1700000011), Ended: at(1700000011), Outputs: outs[:1]},
		{ID: "kmod.x86_64", Status: Running, Started: at(1700000012)},
		{ID: "kmod.x86_64", Status: Failed, Ended: at(1700000030), Log: "kmodlog", Error: "exit status 1", Detail: "rpmbuild failed"},
		{ID: "zed.x86_64", Status: Skipped, Error: "kmod.x86_64 failed"},
	}
	for _, e := range events {
		if err := d.UpdateJob(id, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.SetPhase(id, PhasePublish); err != nil {
		t.Fatal(err)
	}
	if err := d.Finish(id, StateFailed, "pebble-9-20260101.0", []string{"kmod.x86_64: exit status 1"}); err != nil {
		t.Fatal(err)
	}
	c := Compose{ID: "pebble-9-20260101.0", Run: id, At: at(1700000040), Packages: 3, Repos: 2}
	if err := d.Published(c); err != nil {
		t.Fatal(err)
	}

	want := in
	want.ID, want.State, want.Phase = id, StateFailed, PhasePublish
	want.Compose, want.Errors = c.ID, []string{"kmod.x86_64: exit status 1"}
	want.Counts = Counts{Jobs: 4, Built: 1, Cached: 1, Failed: 1, Skipped: 1}
	wantJobs := []Job{
		{Run: id, ID: "greet.aarch64", Package: "greet", Arch: "aarch64", Status: Cached, Key: "k2",
			Started: at(1700000011), Ended: at(1700000011), Outputs: outs[:1]},
		{Run: id, ID: "greet.x86_64", Package: "greet", Arch: "x86_64", Status: Built, Key: "k1",
			Started: at(1700000010), Ended: at(1700000020), Log: "loghash", Outputs: outs, Detail: "2 rpms"},
		{Run: id, ID: "kmod.x86_64", Package: "kmod", Arch: "x86_64", SIG: "kernel", Status: Failed, Key: "k3",
			Started: at(1700000012), Ended: at(1700000030), Log: "kmodlog", Error: "exit status 1", Detail: "rpmbuild failed"},
		{Run: id, ID: "zed.x86_64", Package: "zed", Arch: "x86_64", Status: Skipped, Key: "k4", Error: "kmod.x86_64 failed"},
	}

	// Each write has its sequence number; a finished run its stored
	// counts.
	all, err := d.Jobs(id, Filter{})
	if err != nil || len(all) != len(wantJobs) {
		t.Fatalf("Jobs: %v %v", all, err)
	}
	for i := range wantJobs {
		if all[i].Seq == 0 {
			t.Errorf("job %s has no write sequence", all[i].ID)
		}
		wantJobs[i].Seq = all[i].Seq
	}
	want.counted = true
	// The writer and a reader read the same.
	for name, r := range map[string]*DB{"writer": d, "reader": openRO(t, path)} {
		got, err := r.Run(id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Ended.Before(in.Started) {
			t.Errorf("%s: ended %v before it started", name, got.Ended)
		}
		want.Ended = got.Ended
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Run =\n%+v\nwant\n%+v", name, got, want)
		}
		if l, err := r.Latest(); err != nil || !reflect.DeepEqual(l, want) {
			t.Errorf("%s: Latest = %+v, %v", name, l, err)
		}
		if runs, err := r.Runs(50, 0); err != nil || len(runs) != 1 || !reflect.DeepEqual(runs[0], want) {
			t.Errorf("%s: Runs = %+v, %v", name, runs, err)
		}
		if _, ok, err := r.Current(); ok || err != nil {
			t.Errorf("%s: Current of a finished history = %v, %v", name, ok, err)
		}
		if got, err := r.Jobs(id, Filter{}); err != nil || !reflect.DeepEqual(got, wantJobs) {
			t.Errorf("%s: Jobs =\n%+v, %v\nwant\n%+v", name, got, err, wantJobs)
		}
		filters := map[Filter][]Job{
			{Package: "greet"}:                 wantJobs[:2],
			{Arch: "x86_64"}:                   wantJobs[1:],
			{Package: "greet", Arch: "x86_64"}: wantJobs[1:2],
			{Status: Failed}:                   wantJobs[2:3],
			{Status: Queued}:                   nil,
			{Limit: 2, Offset: 1}:              wantJobs[1:3],
			{Arch: "x86_64", Offset: 2}:        wantJobs[3:],
		}
		for f, wj := range filters {
			if got, err := r.Jobs(id, f); err != nil || !reflect.DeepEqual(got, wj) {
				t.Errorf("%s: Jobs(%+v) = %+v, %v, want %+v", name, f, got, err, wj)
			}
		}
		if j, err := r.Job(id, "kmod.x86_64"); err != nil || !reflect.DeepEqual(j, wantJobs[2]) {
			t.Errorf("%s: Job = %+v, %v", name, j, err)
		}
		if cs, err := r.Composes(10); err != nil || !reflect.DeepEqual(cs, []Compose{c}) {
			t.Errorf("%s: Composes = %+v, %v", name, cs, err)
		}
	}

	b, _ = json.Marshal(want)
	if !strings.Contains(string(b), `"ended":`) || !strings.Contains(string(b), `"compose":"pebble-9-20260101.0"`) {
		t.Errorf("finished run's JSON: %s", b)
	}

	// A second run: JobRuns is newest first; Runs pages with before.
	id2, err := d.Begin(Run{Command: "publish"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.UpdateJob(id2, Job{ID: "kmod.x86_64", Package: "kmod", Arch: "x86_64", Status: Built}); err != nil {
		t.Fatal(err)
	}
	if err := d.Finish(id2, StateNothing, "", nil); err != nil {
		t.Fatal(err)
	}
	jr, err := d.JobRuns("kmod.x86_64", 0)
	if err != nil || len(jr) != 2 || jr[0].Run != id2 || jr[0].Status != Built || !reflect.DeepEqual(jr[1], wantJobs[2]) {
		t.Errorf("JobRuns = %+v, %v", jr, err)
	}
	if jr, err := d.JobRuns("kmod.x86_64", 1); err != nil || len(jr) != 1 || jr[0].Run != id2 {
		t.Errorf("JobRuns(1) = %+v, %v", jr, err)
	}
	r2, err := d.Run(id2)
	if err != nil || r2.User == "" || r2.Host != d.host || r2.PID != os.Getpid() || r2.Started.IsZero() ||
		r2.Args != nil || r2.Errors != nil || r2.Counts != (Counts{Jobs: 1, Built: 1}) {
		t.Errorf("run with defaults: %+v, %v", r2, err)
	}
	if runs, err := d.Runs(0, 0); err != nil || len(runs) != 2 || runs[0].ID != id2 || runs[1].ID != id {
		t.Errorf("Runs(0, 0) = %+v, %v", runs, err)
	}
	if runs, err := d.Runs(10, id2); err != nil || len(runs) != 1 || runs[0].ID != id {
		t.Errorf("Runs(10, %d) = %+v, %v", id2, runs, err)
	}
}

// Finish records what never ran as interrupted.
func TestFinishInterruptsLeftovers(t *testing.T) {
	d, _ := openTemp(t)
	id, err := d.Begin(Run{Command: "build"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AddJobs(id, []Job{{ID: "a"}, {ID: "b", Status: Running}, {ID: "c", Status: Built}}); err != nil {
		t.Fatal(err)
	}
	if err := d.Finish(id, StateInterrupted, "", []string{"interrupt"}); err != nil {
		t.Fatal(err)
	}
	if r, err := d.Run(id); err != nil || r.Counts != (Counts{Jobs: 3, Built: 1, Interrupted: 2}) {
		t.Errorf("Run = %+v, %v", r, err)
	}
	if err := d.Finish(id, "done", "", nil); err == nil {
		t.Error("Finish took an unknown state")
	}
}

func TestPermissions(t *testing.T) {
	_, path := openTemp(t)
	for p, want := range map[string]fs.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, st.Mode().Perm(), want)
		}
	}
}

func TestReadOnlyRefusesWrites(t *testing.T) {
	d, path := openTemp(t)
	id, err := d.Begin(Run{Command: "build"})
	if err != nil {
		t.Fatal(err)
	}
	ro := openRO(t, path)
	if _, err := ro.Begin(Run{Command: "build"}); !errors.Is(err, errReadOnly) {
		t.Errorf("Begin on a reader: %v", err)
	}
	if err := ro.UpdateJob(id, Job{ID: "a", Status: Built}); !errors.Is(err, errReadOnly) {
		t.Errorf("UpdateJob on a reader: %v", err)
	}
	// Not even by SQL: the connection itself is read-only.
	if _, err := ro.db.Exec(`DELETE FROM runs`); err == nil {
		t.Error("a reader's connection wrote")
	}
}

func TestNotFound(t *testing.T) {
	d, path := openTemp(t)
	if _, err := d.Latest(); !errors.Is(err, ErrNotFound) {
		t.Errorf("Latest of an empty history: %v", err)
	}
	id, err := d.Begin(Run{Command: "build"})
	if err != nil {
		t.Fatal(err)
	}
	missing := id + 41
	for name, err := range map[string]error{
		"Run":       second(d.Run(missing)),
		"Jobs":      second(d.Jobs(missing, Filter{})),
		"Job":       second(d.Job(id, "nope.x86_64")),
		"Job/run":   second(d.Job(missing, "nope.x86_64")),
		"JobRuns":   second(d.JobRuns("nope.x86_64", 0)),
		"SetPhase":  d.SetPhase(missing, PhaseBuild),
		"Finish":    d.Finish(missing, StateSucceeded, "", nil),
		"UpdateJob": d.UpdateJob(missing, Job{ID: "a", Status: Built}),
		"AddJobs":   d.AddJobs(missing, []Job{{ID: "a"}}),
		"Published": d.Published(Compose{ID: "c", Run: missing}),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		} else if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v does not name the file", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// exited returns the pid of a process that has exited and been reaped.
func exited(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func rawState(t *testing.T, d *DB, id int64) (string, []string) {
	t.Helper()
	var state string
	if err := d.db.QueryRow(`SELECT state FROM runs WHERE id = ?`, id).Scan(&state); err != nil {
		t.Fatal(err)
	}
	rows, err := d.db.Query(`SELECT status FROM jobs WHERE run = ? ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var statuses []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		statuses = append(statuses, s)
	}
	return state, statuses
}

func TestInterrupted(t *testing.T) {
	d, path := openTemp(t)
	id, err := d.Begin(Run{Command: "build", PID: exited(t), Started: at(1700000000)})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AddJobs(id, []Job{{ID: "a", Status: Built, Started: at(1700000001), Ended: at(1700000005)},
		{ID: "b", Status: Running, Started: at(1700000003)}, {ID: "c"}}); err != nil {
		t.Fatal(err)
	}
	ro := openRO(t, path)
	for name, r := range map[string]*DB{"writer": d, "reader": ro} {
		run, err := r.Run(id)
		if err != nil {
			t.Fatal(err)
		}
		// Its end is the last sign of it: job a's end.
		if run.State != StateInterrupted || !run.Ended.Equal(at(1700000005)) ||
			run.Counts != (Counts{Jobs: 3, Built: 1, Interrupted: 2}) {
			t.Errorf("%s: dead run reads as %+v", name, run)
		}
		if runs, err := r.Runs(0, 0); err != nil || runs[0].State != StateInterrupted || runs[0].Counts != run.Counts {
			t.Errorf("%s: Runs = %+v, %v", name, runs, err)
		}
		if l, err := r.Latest(); err != nil || l.State != StateInterrupted {
			t.Errorf("%s: Latest = %+v, %v", name, l, err)
		}
		if _, ok, err := r.Current(); ok || err != nil {
			t.Errorf("%s: Current = %v, %v for a dead run", name, ok, err)
		}
		if jobs, err := r.Jobs(id, Filter{Status: Interrupted}); err != nil || len(jobs) != 2 || jobs[0].ID != "b" || jobs[1].Status != Interrupted {
			t.Errorf("%s: interrupted jobs = %+v, %v", name, jobs, err)
		}
		if jobs, err := r.Jobs(id, Filter{Status: Queued}); err != nil || len(jobs) != 0 {
			t.Errorf("%s: queued jobs of a dead run = %+v, %v", name, jobs, err)
		}
		if j, err := r.Job(id, "c"); err != nil || j.Status != Interrupted {
			t.Errorf("%s: Job = %+v, %v", name, j, err)
		}
		if jr, err := r.JobRuns("b", 0); err != nil || jr[0].Status != Interrupted {
			t.Errorf("%s: JobRuns = %+v, %v", name, jr, err)
		}
	}
	// Readers did not write.
	if state, statuses := rawState(t, d, id); state != StateRunning || !reflect.DeepEqual(statuses, []string{Built, Running, Queued}) {
		t.Errorf("a reader wrote: %s %v", state, statuses)
	}

	// The next Begin records it.
	id2, err := d.Begin(Run{Command: "build"})
	if err != nil {
		t.Fatal(err)
	}
	if state, statuses := rawState(t, d, id); state != StateInterrupted || !reflect.DeepEqual(statuses, []string{Built, Interrupted, Interrupted}) {
		t.Errorf("after Begin: %s %v", state, statuses)
	}
	if run, err := d.Run(id); err != nil || !run.Ended.Equal(at(1700000005)) {
		t.Errorf("recorded end: %+v, %v", run, err)
	}
	// This process is alive: the new run is current, and the next Begin
	// leaves it be.
	if cur, ok, err := ro.Current(); err != nil || !ok || cur.ID != id2 || cur.State != StateRunning {
		t.Errorf("Current = %+v %v %v", cur, ok, err)
	}
	if _, err := d.Begin(Run{Command: "publish"}); err != nil {
		t.Fatal(err)
	}
	if state, _ := rawState(t, d, id2); state != StateRunning {
		t.Errorf("a live run was recorded %s", state)
	}

	// A live pid with another process's identity (a reused pid) is not
	// the run's.
	if _, err := d.db.Exec(`UPDATE runs SET proc = 'another-boot/1' WHERE id = ?`, id2); err != nil {
		t.Fatal(err)
	}
	if run, err := ro.Run(id2); err != nil || run.State != StateInterrupted {
		t.Errorf("run with a reused pid reads as %+v, %v", run, err)
	}
}

func TestMigrations(t *testing.T) {
	d, path := openTemp(t)
	id, err := d.Begin(Run{Command: "build"})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()

	version := func(d *DB) int {
		var v int
		if err := d.db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Opening again applies nothing (the first migration again would fail
	// on its CREATE TABLE) and keeps the runs.
	d, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if v := version(d); v != len(migrations) {
		t.Errorf("version %d, want %d", v, len(migrations))
	}
	if _, err := d.Run(id); err != nil {
		t.Error(err)
	}
	d.Close()

	// A newer binary's migration applies alone, on top.
	saved := migrations
	t.Cleanup(func() { migrations = saved })
	migrations = append(saved[:len(saved):len(saved)], `CREATE TABLE extra (x); INSERT INTO extra VALUES (1)`)
	d, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var x int
	if err := d.db.QueryRow(`SELECT count(*) FROM extra`).Scan(&x); err != nil || x != 1 || version(d) != len(saved)+1 {
		t.Errorf("new migration: %d rows, %v, version %d", x, err, version(d))
	}
	d.Close()

	// A failing migration leaves nothing of itself.
	migrations = append(saved[:len(saved):len(saved)], `CREATE TABLE extra (x)`, `CREATE TABLE half (x); SELECT * FROM nowhere`)
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), fmt.Sprintf("version %d", len(saved)+2)) {
		t.Errorf("failing migration: %v", err)
	}
	migrations = saved

	// A database newer than this binary is refused, by writers and
	// readers, naming the file and both versions.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var half int
	raw.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'half'`).Scan(&half)
	if half != 0 {
		t.Error("the failed migration left its table")
	}
	if _, err := raw.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	for name, open := range map[string]func(string) (*DB, error){"Open": Open, "OpenReadOnly": OpenReadOnly} {
		_, err := open(path)
		if err == nil {
			t.Fatalf("%s of a newer database worked", name)
		}
		for _, s := range []string{path, "version 99", fmt.Sprintf("version %d", len(migrations))} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: %q does not say %q", name, err, s)
			}
		}
	}
}

func TestOpenReadOnlyMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	_, err := OpenReadOnly(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "no run has been recorded yet") {
		t.Errorf("OpenReadOnly of a missing file: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenReadOnly created %s: %v", path, err)
	}
	// A file that is not a database fails at once, naming it.
	if err := os.WriteFile(path, []byte("not a database, but long enough to have a header of a sort......................................................"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func(string) (*DB, error){"Open": Open, "OpenReadOnly": OpenReadOnly} {
		if _, err := open(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s of a file that is not a database: %v", name, err)
		}
	}
}

// A live view asks for what changed since it last looked: the jobs
// written after a sequence number, and only those.
func TestJobsSince(t *testing.T) {
	d, path := openTemp(t)
	id, err := d.Begin(Run{Command: "build", PID: os.Getpid(), Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AddJobs(id, []Job{{ID: "a/x86_64"}, {ID: "b/x86_64"}, {ID: "c/x86_64"}}); err != nil {
		t.Fatal(err)
	}
	all, _ := d.Jobs(id, Filter{})
	last := int64(0)
	for _, j := range all {
		last = max(last, j.Seq)
	}
	if err := d.UpdateJob(id, Job{ID: "b/x86_64", Status: Running}); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*DB{"writer": d, "reader": openRO(t, path)} {
		got, err := r.Jobs(id, Filter{Since: last})
		if err != nil || len(got) != 1 || got[0].ID != "b/x86_64" || got[0].Status != Running || got[0].Seq <= last {
			t.Errorf("%s: since %d: %+v %v", name, last, got, err)
		}
		if got, _ := r.Jobs(id, Filter{Since: got[0].Seq}); len(got) != 0 {
			t.Errorf("%s: nothing changed, yet %+v", name, got)
		}
	}
}
