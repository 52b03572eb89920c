package plan

import (
	"sort"
	"strings"
)

// findCycles blocks every job on a cycle of Needs, naming the cycle.
func (p *Plan) findCycles() {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(id string)
	visit = func(id string) {
		color[id] = grey
		stack = append(stack, id)
		for _, n := range p.byID[id].Needs {
			switch color[n] {
			case white:
				visit(n)
			case grey:
				start := len(stack) - 1
				for stack[start] != n {
					start--
				}
				cycle := append(append([]string{}, stack[start:]...), n)
				for _, c := range cycle[:len(cycle)-1] {
					p.block(p.byID[c], "build dependency cycle: "+strings.Join(cycle, " → "))
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[id] = black
	}
	ids := make([]string, 0, len(p.byID))
	for id := range p.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if color[id] == white {
			visit(id)
		}
	}
}

// propagateBlocks blocks the dependents of blocked jobs, naming the cause.
func (p *Plan) propagateBlocks() {
	for changed := true; changed; {
		changed = false
		for _, j := range p.Jobs {
			if p.Blocked[j.ID] != nil {
				continue
			}
			for _, n := range j.Needs {
				if p.Blocked[n] != nil {
					p.Blocked[j.ID] = &Problem{Package: j.Package, Arch: j.Arch, Reason: "needs " + n + ", which cannot build"}
					changed = true
					break
				}
			}
		}
	}
}

// order ranks the jobs by their longest chain to the end and sorts them so
// that every job comes after what it needs, higher rank first.
func (p *Plan) order() {
	dependents := map[string][]string{}
	for _, j := range p.Jobs {
		for _, n := range j.Needs {
			dependents[n] = append(dependents[n], j.ID)
		}
	}
	var rank func(id string, seen map[string]bool) float64
	rank = func(id string, seen map[string]bool) float64 {
		j := p.byID[id]
		if j.Rank > 0 || seen[id] {
			return j.Rank
		}
		seen[id] = true
		best := 0.0
		for _, d := range dependents[id] {
			best = max(best, rank(d, seen))
		}
		j.Rank = j.Weight + best
		return j.Rank
	}
	for _, j := range p.Jobs {
		rank(j.ID, map[string]bool{})
	}
	// Kahn's algorithm, taking the highest-ranked ready job first.
	waiting := map[string]int{}
	for _, j := range p.Jobs {
		waiting[j.ID] = len(j.Needs)
	}
	var ready, out []*Job
	for _, j := range p.Jobs {
		if waiting[j.ID] == 0 {
			ready = append(ready, j)
		}
	}
	for len(ready) > 0 {
		sort.Slice(ready, func(a, b int) bool {
			if ready[a].Rank != ready[b].Rank {
				return ready[a].Rank > ready[b].Rank
			}
			return ready[a].ID < ready[b].ID
		})
		j := ready[0]
		ready = ready[1:]
		out = append(out, j)
		for _, d := range dependents[j.ID] {
			if waiting[d]--; waiting[d] == 0 {
				ready = append(ready, p.byID[d])
			}
		}
	}
	for _, j := range p.Jobs { // jobs on cycles never become ready
		if waiting[j.ID] > 0 {
			out = append(out, j)
		}
	}
	p.Jobs = out
	// The critical path: from the highest-ranked start, follow the
	// highest-ranked dependent.
	var cur *Job
	for _, j := range p.Jobs {
		if len(j.Needs) == 0 && p.Blocked[j.ID] == nil && (cur == nil || j.Rank > cur.Rank) {
			cur = j
		}
	}
	for cur != nil {
		p.CriticalPath = append(p.CriticalPath, cur.ID)
		var next *Job
		for _, d := range dependents[cur.ID] {
			if dj := p.byID[d]; p.Blocked[d] == nil && (next == nil || dj.Rank > next.Rank) {
				next = dj
			}
		}
		cur = next
	}
}
