package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/pipeline"
)

// checkReproducible rebuilds every job of a finished build from the same
// inputs and compares the RPMs byte for byte. It fails (so nothing is
// published) unless every one matches.
func checkReproducible(c *cli.Context, e *env, pl *pipeline.Planned, b *pipeline.Built) error {
	var recs []*build.Record
	for _, j := range b.Jobs {
		if rec := b.Records[j.ID]; rec != nil {
			recs = append(recs, rec)
		}
	}
	workers := c.Int("jobs")
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	prog := e.reporter()
	exec := &build.Local{Store: e.store, Work: e.lay.WorkDir(), Limits: e.buildLimits(), Roots: pl.Roots}
	done := 0
	rep, err := build.Reproduce(c.Context, exec, e.store, recs, workers, func(job string, same bool) {
		status := "same"
		if !same {
			status = "failed"
		}
		done++
		prog.event(pipeline.Event{Kind: pipeline.EventJob, Phase: "reproduce", Job: job, Status: status, Done: done, Total: len(recs)})
	})
	prog.finish()
	if err != nil {
		return fmt.Errorf("check reproducible: %w", err)
	}
	pct := 100.0
	if rep.RPMs > 0 {
		pct = 100 * float64(rep.SameRPMs) / float64(rep.RPMs)
	}
	if e.json {
		var ms []string
		for _, m := range rep.Mismatches {
			ms = append(ms, m.String())
		}
		errs := map[string]string{}
		for id, err := range rep.Errors {
			errs[id] = err.Error()
		}
		json.NewEncoder(os.Stdout).Encode(map[string]any{"time": time.Now().UTC(), "event": "result", "phase": "reproduce", "jobs": rep.Jobs, "same_jobs": rep.SameJobs,
			"rpms": rep.RPMs, "same_rpms": rep.SameRPMs, "percent": pct, "mismatches": ms, "errors": errs})
	} else {
		for _, m := range rep.Mismatches {
			fmt.Println(m)
		}
		for id, err := range rep.Errors {
			fmt.Printf("%s: the rebuild failed: %v\n", id, err)
		}
		fmt.Printf("reproducible: %d/%d jobs, %d/%d RPMs (%.1f%%)\n", rep.SameJobs, rep.Jobs, rep.SameRPMs, rep.RPMs, pct)
	}
	if !rep.Reproducible() {
		return cli.Exit(fmt.Sprintf("quarry: %d RPMs did not rebuild to the same bytes, %d rebuilds failed; nothing published",
			len(rep.Mismatches), len(rep.Errors)), 1)
	}
	return nil
}
