package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"

	"github.com/quarrylinux/quarry/core/downstream"
	"github.com/quarrylinux/quarry/core/source"
)

// pushImports publishes freshly imported trees downstream (import --push).
func pushImports(c *cli.Context, e *env, results []source.Result) error {
	p := &downstream.Pusher{Config: e.cfg, Store: e.store, StateDir: e.state, URL: c.String("push"), Force: c.Bool("force"), Log: e.log}
	prog := newProgress("push", len(results), e.json)
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
			prog.event(r.Name, "started", "")
			res, err := p.Push(ctx, r.Name, r.Entry)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				prog.event(r.Name, "failed", err.Error())
				errs = append(errs, err)
				return nil
			}
			status := "unchanged"
			if res.Changed {
				status = "pushed"
			}
			prog.event(r.Name, status, res.Tag)
			pushed = append(pushed, res)
			return nil
		})
	}
	_ = g.Wait()
	prog.finish()
	sort.Slice(pushed, func(i, j int) bool { return pushed[i].Package < pushed[j].Package })
	for _, r := range pushed {
		if e.json {
			b, _ := json.Marshal(struct {
				Event string `json:"event"`
				downstream.Result
			}{"pushed", r})
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
