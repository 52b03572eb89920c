package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"

	"github.com/quarrylinux/quarry/core/downstream"
	"github.com/quarrylinux/quarry/core/source"
)

// pushImports publishes freshly imported trees downstream (import --push).
func pushImports(c *cli.Context, e *env, results []source.Result) error {
	p := &downstream.Pusher{Config: e.cfg, Store: e.store, StateDir: e.state, URL: c.String("push"), Force: c.Bool("force"), Log: e.log}
	rep := e.reporter()
	event := rep.items("push", len(results))
	var (
		mu     sync.Mutex
		errs   []error
		pushed []downstream.Result
	)
	g, ctx := errgroup.WithContext(c.Context)
	jobs := c.Int("jobs")
	if jobs <= 0 {
		jobs = 4 // pushes wait on the network, not the CPU
	}
	g.SetLimit(jobs)
	for _, r := range results {
		g.Go(func() error {
			event(r.Name, "started", "")
			res, err := p.Push(ctx, r.Name, r.Entry)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				event(r.Name, "failed", err.Error())
				errs = append(errs, err)
				return nil
			}
			status := "unchanged"
			if res.Changed {
				status = "pushed"
			}
			event(r.Name, status, res.Tag)
			pushed = append(pushed, res)
			return nil
		})
	}
	_ = g.Wait()
	rep.finish()
	sort.Slice(pushed, func(i, j int) bool { return pushed[i].Package < pushed[j].Package })
	for _, r := range pushed {
		if e.json {
			b, _ := json.Marshal(struct {
				Time  time.Time `json:"time"`
				Event string    `json:"event"`
				Phase string    `json:"phase"`
				downstream.Result
			}{time.Now().UTC(), "result", "push", r})
			fmt.Fprintln(os.Stdout, string(b))
			continue
		}
		status := "unchanged"
		if r.Changed {
			status = "pushed"
		}
		fmt.Printf("%-24s %-10s %s  %s %.12s\n", r.Package, status, r.Tag, r.URL, r.Commit)
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		return errors.Join(errs...)
	}
	return nil
}
