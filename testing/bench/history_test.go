package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/history"
)

const (
	histRuns = 100
	histJobs = 10000 // per run: 2,500 packages on 4 arches
)

var histArches = []string{"x86_64", "aarch64", "ppc64le", "s390x"}

func hexDigest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// histJobsOf is run n's jobs as a finished build leaves them: most cached
// (a rebuild), some built, 1% failed and as many skipped, one in ten a
// SIG's, each with a cache key, a log and one or two RPMs with digests,
// so rows are the size of real ones.
func histJobsOf(n int) []history.Job {
	jobs := make([]history.Job, 0, histJobs)
	t0 := time.Unix(1700000000+int64(n)*3600, 0)
	for i := range histJobs {
		pkg, arch := fmt.Sprintf("pkg%04d", i/len(histArches)), histArches[i%len(histArches)]
		id := pkg + "." + arch
		j := history.Job{ID: id, Package: pkg, Arch: arch, Status: history.Cached,
			Started: t0.Add(time.Duration(i) * time.Second), Ended: t0.Add(time.Duration(i)*time.Second + 500*time.Millisecond),
			Key: hexDigest(fmt.Sprint("key", n, id)), Detail: "cache hit"}
		if i%10 == 0 {
			j.SIG = "hpc"
		}
		switch {
		case (i+n)%100 == 0:
			j.Status, j.Error, j.Detail = history.Failed, "rpmbuild: exit status 1", "rpmbuild failed"
		case (i+n)%100 == 1:
			j.Status, j.Error, j.Detail = history.Skipped, "a dependency failed", ""
		case (i+n)%7 == 0:
			j.Status, j.Detail = history.Built, "2 rpms"
		}
		if j.Status != history.Skipped {
			j.Log = hexDigest(fmt.Sprint("log", n, id))
		}
		if j.Status == history.Built || j.Status == history.Cached {
			j.Outputs = []history.Output{{File: pkg + "-1.0-1." + arch + ".rpm", SHA256: hexDigest(fmt.Sprint("rpm", n, id)), Name: pkg, Arch: arch}}
			if i%3 == 0 {
				j.Outputs = append(j.Outputs, history.Output{File: pkg + "-devel-1.0-1." + arch + ".rpm", SHA256: hexDigest(fmt.Sprint("devel", n, id)), Name: pkg + "-devel", Arch: arch})
			}
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// cpuTime is the CPU time this process has used, user and system: what
// a call costs whatever else the machine runs (the wall times are also
// another process's load).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func quantiles(d []time.Duration) (p50, p95 float64) {
	slices.Sort(d)
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	return ms(d[len(d)/2]), ms(d[len(d)*95/100])
}

// BenchmarkHistoryQueries: every reader call of core/history on a
// history of 100 runs of 10,000 jobs (1,000,000 job rows), through
// OpenReadOnly as the console and the CLI read it. Goal: p95 well under
// 100 ms for each. The baseline, in the same process, is what a history
// of plain files would do for jobs10k: decode one run's 10,000 jobs from
// a JSON file.
func BenchmarkHistoryQueries(b *testing.B) {
	path := filepath.Join(b.TempDir(), "history.db")
	w, err := history.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	// populate is the time of the history's calls alone, not of making
	// up the jobs. The newest run is left running, as this process, as
	// when the console reads during a build.
	var populate time.Duration
	for n := range histRuns {
		jobs := histJobsOf(n)
		start := time.Now()
		id, err := w.Begin(history.Run{Command: "build", Args: []string{"--all"}, ConfigDigest: hexDigest("cfg"), LockDigest: hexDigest(fmt.Sprint("lock", n))})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.AddJobs(id, jobs); err != nil {
			b.Fatal(err)
		}
		if n < histRuns-1 {
			compose := fmt.Sprintf("pebble-9-%03d", n)
			if err := w.Published(history.Compose{ID: compose, Run: id, Packages: 2500, Repos: 8}); err != nil {
				b.Fatal(err)
			}
			if err := w.Finish(id, history.StateFailed, compose, []string{"100 jobs failed"}); err != nil {
				b.Fatal(err)
			}
		}
		populate += time.Since(start)
	}
	start := time.Now()
	if err := w.Close(); err != nil { // checkpoints the WAL into the file
		b.Fatal(err)
	}
	populate += time.Since(start)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	jsonPath := filepath.Join(b.TempDir(), "run.json")
	data, _ := json.Marshal(histJobsOf(0))
	if err := os.WriteFile(jsonPath, data, 0o600); err != nil {
		b.Fatal(err)
	}

	r, err := history.OpenReadOnly(path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	newest, err := r.Latest()
	if err != nil {
		b.Fatal(err)
	}
	first := newest.ID - histRuns + 1
	type query struct {
		name string
		reps int
		call func(i int) (int, error) // how many rows it read
	}
	queries := []query{
		{"runs", 50, func(int) (int, error) { l, err := r.Runs(50, 0); return len(l), err }},
		{"run", 200, func(i int) (int, error) { _, err := r.Run(first + int64(i%histRuns)); return 1, err }},
		{"latest", 200, func(int) (int, error) { _, err := r.Latest(); return 1, err }},
		{"current", 200, func(int) (int, error) {
			c, ok, err := r.Current()
			if !ok || c.Counts.Jobs != histJobs {
				return 0, err
			}
			return 1, err
		}},
		{"jobs10k", 30, func(i int) (int, error) {
			l, err := r.Jobs(first+int64(i*37%histRuns), history.Filter{})
			return len(l), err
		}},
		{"failed", 200, func(i int) (int, error) {
			l, err := r.Jobs(first+int64(i*37%histRuns), history.Filter{Status: history.Failed})
			return len(l), err
		}},
		{"package", 200, func(i int) (int, error) {
			l, err := r.Jobs(first+int64(i*37%histRuns), history.Filter{Package: fmt.Sprintf("pkg%04d", i*101%2500)})
			return len(l), err
		}},
		{"page", 200, func(i int) (int, error) {
			l, err := r.Jobs(first+int64(i*37%histRuns), history.Filter{Limit: 50, Offset: 5000})
			return len(l), err
		}},
		{"job", 200, func(i int) (int, error) {
			_, err := r.Job(first+int64(i*37%histRuns), fmt.Sprintf("pkg%04d.%s", i*101%2500, histArches[i%4]))
			return 1, err
		}},
		{"jobruns", 200, func(i int) (int, error) {
			l, err := r.JobRuns(fmt.Sprintf("pkg%04d.%s", i*101%2500, histArches[i%4]), 0)
			return len(l), err
		}},
		{"composes", 200, func(int) (int, error) { l, err := r.Composes(50); return len(l), err }},
	}
	want := map[string]int{"runs": 50, "current": 1, "jobs10k": histJobs, "failed": histJobs / 100, "package": len(histArches), "page": 50, "jobruns": histRuns, "composes": 50}
	times := make([][]time.Duration, len(queries))
	cpus := make([]time.Duration, len(queries))
	var base []time.Duration
	b.ResetTimer()
	for range b.N {
		for qi, q := range queries {
			for i := range q.reps {
				t, c := time.Now(), cpuTime()
				n, err := q.call(i)
				times[qi] = append(times[qi], time.Since(t))
				cpus[qi] += cpuTime() - c
				if err != nil {
					b.Fatalf("%s: %v", q.name, err)
				}
				if w, ok := want[q.name]; ok && n != w {
					b.Fatalf("%s: %d rows, want %d", q.name, n, w)
				}
			}
		}
		for range 10 {
			t := time.Now()
			data, err := os.ReadFile(jsonPath)
			var jobs []history.Job
			if err == nil {
				err = json.Unmarshal(data, &jobs)
			}
			base = append(base, time.Since(t))
			if err != nil || len(jobs) != histJobs {
				b.Fatal(err)
			}
		}
	}
	// The same reads while a build writes: a writer (this process's other
	// connection; the file lock keeps a second writer process out)
	// records job events on the running run as fast as it can.
	w, err = history.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	stop, stopped := make(chan struct{}), make(chan error)
	var written int
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				stopped <- nil
				return
			default:
			}
			j := history.Job{ID: fmt.Sprintf("pkg%04d.%s", i/2%2500, histArches[i/2%2500%4]), Status: history.Running}
			if i%2 == 1 {
				j.Status = history.Cached
			}
			if err := w.UpdateJob(newest.ID, j); err != nil {
				stopped <- err
				return
			}
			written++
		}
	}()
	var busyRuns, busyJobs []time.Duration
	busyStart := time.Now()
	for range b.N {
		for i := range 30 {
			t := time.Now()
			_, err := r.Runs(50, 0)
			busyRuns = append(busyRuns, time.Since(t))
			if err != nil {
				b.Fatal(err)
			}
			t = time.Now()
			_, err = r.Jobs(first+int64(i*37%histRuns), history.Filter{})
			busyJobs = append(busyJobs, time.Since(t))
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	close(stop)
	if err := <-stopped; err != nil {
		b.Fatal(err)
	}
	busy := time.Since(busyStart)
	w.Close()
	b.StopTimer()
	b.ReportMetric(populate.Seconds(), "populate-s")
	b.ReportMetric(float64(populate.Milliseconds())/histRuns, "populate-ms/run")
	b.ReportMetric(float64(st.Size())/(1<<20), "db-MiB")
	for qi, q := range queries {
		p50, p95 := quantiles(times[qi])
		b.ReportMetric(p50, q.name+"-p50-ms")
		b.ReportMetric(p95, q.name+"-p95-ms")
		if q.name == "jobs10k" {
			b.ReportMetric(float64(cpus[qi].Microseconds())/1000/float64(len(times[qi])), "jobs10k-cpu-ms/call")
			b50, _ := quantiles(base)
			b.ReportMetric(b50, "jobs10k-json-file-p50-ms")
			b.ReportMetric(p50/b50, "x-jobs10k-json-file")
		}
	}
	p50, p95 := quantiles(busyRuns)
	b.ReportMetric(p50, "runs-while-writing-p50-ms")
	b.ReportMetric(p95, "runs-while-writing-p95-ms")
	p50, p95 = quantiles(busyJobs)
	b.ReportMetric(p50, "jobs10k-while-writing-p50-ms")
	b.ReportMetric(p95, "jobs10k-while-writing-p95-ms")
	b.ReportMetric(float64(written)/busy.Seconds(), "events/s-written-meanwhile")
}

// BenchmarkHistoryRecord: what recording costs a build, per job event
// (UpdateJob: a job's start, then its end with its log and outputs), on a
// run of 10,000 jobs added with AddJobs. The baseline, in the same
// process, is the least a record can cost: the same event appended as a
// JSON line to a file, without fsync (as synchronous=NORMAL does not
// fsync a commit either).
func BenchmarkHistoryRecord(b *testing.B) {
	dir := b.TempDir()
	d, err := history.Open(filepath.Join(dir, "history.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	f, err := os.OpenFile(filepath.Join(dir, "events.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	done := histJobsOf(0)
	planned := make([]history.Job, len(done))
	for i, j := range done {
		planned[i] = history.Job{ID: j.ID, Package: j.Package, Arch: j.Arch, SIG: j.SIG, Key: j.Key}
	}
	var add, rec, recCPU, line time.Duration
	events := 0
	b.ResetTimer()
	for range b.N {
		id, err := d.Begin(history.Run{Command: "build"})
		if err != nil {
			b.Fatal(err)
		}
		t := time.Now()
		if err := d.AddJobs(id, planned); err != nil {
			b.Fatal(err)
		}
		add += time.Since(t)
		t, c := time.Now(), cpuTime()
		for _, j := range done {
			if err := d.UpdateJob(id, history.Job{ID: j.ID, Status: history.Running, Started: j.Started, Detail: "rpmbuild"}); err != nil {
				b.Fatal(err)
			}
			if err := d.UpdateJob(id, history.Job{ID: j.ID, Status: j.Status, Ended: j.Ended, Log: j.Log, Outputs: j.Outputs, Error: j.Error, Detail: j.Detail}); err != nil {
				b.Fatal(err)
			}
		}
		rec += time.Since(t)
		recCPU += cpuTime() - c
		events += 2 * len(done)
		if err := d.Finish(id, history.StateSucceeded, "", nil); err != nil {
			b.Fatal(err)
		}

		// Unbuffered: each event is its own write(2), as each UpdateJob is
		// its own commit.
		t = time.Now()
		for _, j := range done {
			for _, e := range []history.Job{{Run: id, ID: j.ID, Status: history.Running, Started: j.Started, Detail: "rpmbuild"},
				{Run: id, ID: j.ID, Status: j.Status, Ended: j.Ended, Log: j.Log, Outputs: j.Outputs, Error: j.Error, Detail: j.Detail}} {
				line, _ := json.Marshal(e)
				if _, err := f.Write(append(line, '\n')); err != nil {
					b.Fatal(err)
				}
			}
		}
		line += time.Since(t)
	}
	b.StopTimer()
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 / float64(events) }
	b.ReportMetric(float64(add.Milliseconds())/float64(b.N), "addjobs10k-ms")
	b.ReportMetric(us(rec), "updatejob-us/event")
	b.ReportMetric(us(recCPU), "updatejob-cpu-us/event")
	b.ReportMetric(us(line), "jsonl-append-us/event")
	b.ReportMetric(float64(rec)/float64(line), "x-jsonl-append")
}
