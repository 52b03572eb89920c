package plan

import (
	"fmt"
	"slices"
	"strings"
)

// UnknownError names packages asked for that the plan does not have.
type UnknownError struct {
	Names []string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("not a package of this distribution: %s", strings.Join(e.Names, ", "))
}

// Only is the part of the plan that builds the named packages: their jobs
// and every job those need, in the same order. A name the plan does not
// have is an *UnknownError.
func (p *Plan) Only(names []string) (*Plan, error) {
	have := map[string]bool{}
	for _, pk := range p.Packages {
		have[pk.Name] = true
	}
	var unknown []string
	want := map[string]bool{}
	for _, n := range names {
		if !have[n] {
			unknown = append(unknown, n)
		}
		want[n] = true
	}
	if len(unknown) > 0 {
		return nil, &UnknownError{Names: unknown}
	}
	keep := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		if keep[id] {
			return
		}
		keep[id] = true
		for _, n := range p.byID[id].Needs {
			visit(n)
		}
	}
	for _, j := range p.Jobs {
		if want[j.Package] {
			visit(j.ID)
		}
	}
	out := *p
	out.Jobs, out.byID, out.Blocked = nil, map[string]*Job{}, map[string]*Problem{}
	pkgs := map[string]bool{}
	for _, j := range p.Jobs {
		if keep[j.ID] {
			out.Jobs = append(out.Jobs, j)
			out.byID[j.ID] = j
			pkgs[j.Package] = true
			if b := p.Blocked[j.ID]; b != nil {
				out.Blocked[j.ID] = b
			}
		}
	}
	out.Packages = slices.DeleteFunc(slices.Clone(p.Packages), func(pk *Package) bool { return !pkgs[pk.Name] && !want[pk.Name] })
	out.Problems = slices.DeleteFunc(slices.Clone(p.Problems), func(pr Problem) bool { return !pkgs[pr.Package] && !want[pr.Package] })
	out.CriticalPath = slices.DeleteFunc(slices.Clone(p.CriticalPath), func(id string) bool { return !keep[id] })
	return &out, nil
}
