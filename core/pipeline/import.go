package pipeline

import (
	"context"
	"fmt"
	"sync"

	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/source"
)

// Imported is what an import found: every package's result, and the
// lock with them pinned (written by the caller once the run succeeds).
type Imported struct {
	Results []source.Result
	Changed int
	Lock    *lock.Lock
}

// Import imports, debrands and pins reqs (every package of the config
// when empty) into a copy of lk. A changed buildroot image stops it
// before anything is fetched; an arch not pinned yet is pinned.
func (p *Pipeline) Import(ctx context.Context, lk *lock.Lock, reqs []source.Request, jobs int) (*Imported, error) {
	p.phase(PhaseImport)
	lk = lk.Clone()
	if _, err := p.Buildroots(lk, true); err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		for _, name := range p.Config.Packages() {
			reqs = append(reqs, source.Request{Name: name})
		}
	}
	var mu sync.Mutex // the importer reports from its workers
	done := 0
	im := &source.Importer{Config: p.Config, Store: p.Store, StateDir: p.Layout.State, Jobs: jobs, Log: p.log(), Limits: p.BuildLimits(),
		Progress: func(ev source.Event) {
			mu.Lock()
			defer mu.Unlock()
			if ev.Status != "started" {
				done++
			}
			p.emit(Event{Kind: EventPackage, Phase: PhaseImport, Package: ev.Package, Status: ev.Status, Detail: ev.Detail, Done: done, Total: len(reqs)})
		}}
	results, err := im.Import(ctx, lk, reqs)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	out := &Imported{Results: results, Lock: lk}
	for _, r := range results {
		lk.Packages[r.Name] = r.Entry
		if r.Changed {
			out.Changed++
		}
	}
	p.emit(Event{Kind: EventSummary, Phase: PhaseImport, Done: len(results), Total: len(results), Counts: map[string]int{"changed": out.Changed, "unchanged": len(results) - out.Changed}})
	p.log().Info("imported", "packages", len(results), "changed", out.Changed)
	return out, nil
}
