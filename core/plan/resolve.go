package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/quarrylinux/quarry/core/arch"
)

// provider is one binary of the batch that provides a capability.
type provider struct {
	job    string
	owner  string
	binary *Binary
	dep    Dep
}

// batchIndex is, per build arch, who in the batch provides each name.
type batchIndex map[string]map[string][]provider

func (p *Plan) index() batchIndex {
	idx := batchIndex{}
	for _, j := range p.Jobs {
		src := p.sources[j.Package]
		owner := p.owners[j.Package]
		targets := []string{j.Arch}
		if j.Arch == arch.Noarch {
			targets = p.Arches // a noarch build serves every arch
		}
		bins := src.Binaries[j.BuildArch]
		for _, t := range targets {
			if idx[t] == nil {
				idx[t] = map[string][]provider{}
			}
			for bi := range bins {
				b := &bins[bi]
				for _, d := range b.Provides {
					idx[t][d.Name] = append(idx[t][d.Name], provider{job: j.ID, owner: owner, binary: b, dep: d})
				}
			}
		}
	}
	for _, byName := range idx {
		for _, ps := range byName {
			sort.Slice(ps, func(a, b int) bool {
				if ps[a].job != ps[b].job {
					return ps[a].job < ps[b].job
				}
				return ps[a].binary.Name < ps[b].binary.Name
			})
		}
	}
	return idx
}

// archProvider answers for one build arch, leaving out one package's own
// binaries (a package does not build against itself) and what its owner
// may not build against (another SIG's, or any SIG's for the core).
type archProvider struct {
	byName  map[string][]provider
	exclude string
	owner   string
}

func (a archProvider) Provides(name string) []Dep {
	var out []Dep
	for _, pr := range a.find(name) {
		out = append(out, pr.dep)
	}
	return out
}

func (a archProvider) find(name string) []provider {
	var out []provider
	for _, pr := range a.byName[name] {
		if !strings.HasPrefix(pr.job, a.exclude+"/") && (pr.owner == "" || pr.owner == a.owner) {
			out = append(out, pr)
		}
	}
	return out
}

// pick returns the batch providers that satisfy d (for a rich dependency,
// those of its leaves that the batch satisfies).
func (a archProvider) pick(d Dep) []provider {
	var out []provider
	for _, name := range Names(d) {
		leaf := d
		if strings.HasPrefix(d.Name, "(") {
			leaf = Dep{Name: name}
		}
		for _, pr := range a.find(name) {
			if strings.HasPrefix(d.Name, "(") || overlaps(pr.dep, leaf) {
				out = append(out, pr)
				break
			}
		}
	}
	return out
}

type unionProvider []Provider

func (u unionProvider) Provides(name string) []Dep {
	var out []Dep
	for _, p := range u {
		out = append(out, p.Provides(name)...)
	}
	return out
}

// resolve finds what j's BuildRequires install, and the jobs it waits for.
func (p *Plan) resolve(j *Job, idx batchIndex, host Provider) {
	src := p.sources[j.Package]
	batch := archProvider{byName: idx[j.BuildArch], exclude: j.Package, owner: p.owners[j.Package]}
	both := unionProvider{batch, host}
	installed := map[Need]bool{}
	var queue []provider
	var problems []string
	for _, br := range src.BuildRequires {
		inBatch, err := Satisfied(br, batch)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if inBatch {
			queue = append(queue, batch.pick(br)...)
			continue
		}
		if ok, _ := Satisfied(br, host); ok {
			continue
		}
		if ok, _ := Satisfied(br, both); ok {
			queue = append(queue, batch.pick(br)...)
			continue
		}
		problems = append(problems, fmt.Sprintf("BuildRequires %s: nothing in the batch (for %s) or on the build host provides it%s",
			br, j.BuildArch, elsewhere(br, idx, j.BuildArch)))
	}
	// The closure: what the installed binaries require from the batch.
	for len(queue) > 0 {
		pr := queue[0]
		queue = queue[1:]
		n := Need{Job: pr.job, Binary: pr.binary.Name}
		if installed[n] {
			continue
		}
		installed[n] = true
		for _, r := range pr.binary.Requires {
			if ok, _ := Satisfied(r, batch); ok {
				queue = append(queue, batch.pick(r)...)
			}
		}
	}
	needs := map[string]bool{}
	for n := range installed {
		j.Install = append(j.Install, n)
		needs[n.Job] = true
	}
	sort.Slice(j.Install, func(a, b int) bool {
		return j.Install[a].Job+" "+j.Install[a].Binary < j.Install[b].Job+" "+j.Install[b].Binary
	})
	for id := range needs {
		j.Needs = append(j.Needs, id)
	}
	sort.Strings(j.Needs)
	if len(problems) > 0 {
		p.block(j, strings.Join(problems, "; "))
	}
}

// elsewhere says which other arch's batch would provide d, to explain why
// it is missing here (an ExclusiveArch dependency, say).
func elsewhere(d Dep, idx batchIndex, not string) string {
	var arches []string
	for a, byName := range idx {
		if a == not {
			continue
		}
		if ok, _ := Satisfied(d, archProvider{byName: byName}); ok {
			arches = append(arches, a)
		}
	}
	if len(arches) == 0 {
		return ""
	}
	sort.Strings(arches)
	return " (the batch provides it for " + strings.Join(arches, ", ") + " only)"
}

func (p *Plan) block(j *Job, reason string) {
	if p.Blocked[j.ID] != nil {
		return
	}
	pr := &Problem{Package: j.Package, Arch: j.Arch, Reason: reason}
	p.Blocked[j.ID] = pr
	p.Problems = append(p.Problems, *pr)
}
