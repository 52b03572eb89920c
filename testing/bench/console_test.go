package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/console"
	"github.com/quarrylinux/quarry/core/history"
	"github.com/quarrylinux/quarry/core/layout"
)

// BenchmarkConsole is quarry serve over a history of 100 runs × 10,000
// jobs: p50 and p95 latency of its pages and their JSON twins, and the
// heap it holds. The baseline, in the same process, is encoding the same
// 10,000 jobs as JSON into a buffer (what a page costs at the least).
// Goal: every page's p95 under 100 ms.
func BenchmarkConsole(b *testing.B) {
	const runs, jobsPerRun = 100, 10_000
	dir := b.TempDir()
	lay := layout.Layout{Distro: "pebble", State: dir, Out: filepath.Join(dir, "out")}
	start := time.Now()
	db, err := history.Open(lay.History())
	if err != nil {
		b.Fatal(err)
	}
	arches := []string{"x86_64", "aarch64", "ppc64le", "s390x"}
	statuses := []string{"built", "cached", "cached", "cached", "failed", "skipped"}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for r := 0; r < runs; r++ {
		id, err := db.Begin(history.Run{Command: "build", User: "bench", Host: "bench", PID: 1, Started: t0.Add(time.Duration(r) * time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		jobs := make([]history.Job, jobsPerRun)
		for i := range jobs {
			a := arches[i%len(arches)]
			st := statuses[(i+r)%len(statuses)]
			jobs[i] = history.Job{Run: id, ID: fmt.Sprintf("pkg%04d/%s", i/len(arches), a), Package: fmt.Sprintf("pkg%04d", i/len(arches)), Arch: a,
				Status: st, Started: t0, Ended: t0.Add(time.Minute), Key: fmt.Sprintf("%064d", i), Log: fmt.Sprintf("%064x", i),
				Outputs: []history.Output{{File: fmt.Sprintf("pkg%04d-1.0-1.%s.rpm", i/len(arches), a), SHA256: fmt.Sprintf("%064x", i), Name: "pkg", Arch: a}}}
		}
		if err := db.AddJobs(id, jobs); err != nil {
			b.Fatal(err)
		}
		if err := db.Finish(id, history.StateSucceeded, "", nil); err != nil {
			b.Fatal(err)
		}
	}
	db.Close()
	b.ReportMetric(time.Since(start).Seconds(), "populate-s")
	ro, err := history.OpenReadOnly(lay.History())
	if err != nil {
		b.Fatal(err)
	}
	defer ro.Close()
	srv := httptest.NewServer((&console.Server{Layout: lay, History: ro, Arches: arches}).Handler())
	defer srv.Close()

	pages := []struct{ name, path string }{
		{"runs", "/runs"},
		{"runs-api", "/api/v1/runs"},
		{"run10k", "/runs/50"},
		{"run10k-api", "/api/v1/runs/50"},
		{"run-failed", "/runs/50?status=failed"},
		{"job", "/runs/50/jobs/pkg1234/aarch64"},
		{"job-api", "/api/v1/runs/50/jobs/pkg1234/aarch64"},
	}
	get := func(path string) time.Duration {
		t := time.Now()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%s: %s", path, resp.Status)
		}
		return time.Since(t)
	}
	jobs, err := ro.Jobs(50, history.Filter{})
	if err != nil {
		b.Fatal(err)
	}
	const n = 30
	var base []time.Duration
	for i := 0; i < n; i++ {
		t := time.Now()
		json.Marshal(jobs)
		base = append(base, time.Since(t))
	}
	b.ResetTimer()
	worst := time.Duration(0)
	for _, pg := range pages {
		get(pg.path) // warm
		var ds []time.Duration
		for i := 0; i < n; i++ {
			ds = append(ds, get(pg.path))
		}
		p95 := percentile(ds, 0.95)
		worst = max(worst, p95)
		b.ReportMetric(float64(percentile(ds, 0.5).Microseconds())/1000, pg.name+"-p50-ms")
		b.ReportMetric(float64(p95.Microseconds())/1000, pg.name+"-p95-ms")
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(base, 0.5).Microseconds())/1000, "baseline-json10k-p50-ms")
	b.ReportMetric(float64(worst)/float64(percentile(base, 0.5)), "worst-p95/baseline")
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
}
