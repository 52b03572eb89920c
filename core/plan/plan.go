// Package plan turns the imported packages into a build graph: each
// package's SRPM (made once), its arches (the distribution's ∩ ExclusiveArch
// − ExcludeArch, or one noarch build), and, per (package, arch) job, the
// binaries of the batch its BuildRequires need installed, hence the jobs it
// waits for. Problems (a BuildRequires nothing provides, a cycle, a package
// that builds for no arch) are found before any build starts; they block
// their jobs and those jobs' dependents, and everything else still builds.
package plan

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/quarrylinux/quarry/core/arch"
)

// Package is one source package in the plan.
type Package struct {
	Name   string   `json:"name"`
	NVR    string   `json:"nvr"`
	Tree   string   `json:"tree"`
	Source *Source  `json:"-"`
	Arches []string `json:"arches"` // the jobs' arches; [noarch] for noarch packages
	// Owner is "" for the core, or the SIG that ships the package. A core
	// package builds only against the core; a SIG's against the core and
	// itself, so enabling a SIG never changes a core build.
	Owner string `json:"owner,omitempty"`
}

// Job is building one package for one arch.
type Job struct {
	ID      string `json:"id"` // name/arch
	Package string `json:"package"`
	Arch    string `json:"arch"`
	// BuildArch is the arch rpm builds on: Arch, or for noarch jobs the
	// arch whose batch packages they install.
	BuildArch string `json:"build_arch"`
	SRPM      string `json:"srpm"`
	SRPMFile  string `json:"srpm_file"`
	// Needs are the jobs whose outputs this job installs.
	Needs []string `json:"needs,omitempty"`
	// Install lists the batch binaries installed into the buildroot.
	Install []Need `json:"install,omitempty"`
	// Weight is the expected duration in seconds; Rank the longest chain
	// of weights from this job to the end of the build.
	Weight float64 `json:"weight"`
	Rank   float64 `json:"rank"`
}

// Need is a binary package another job produces.
type Need struct {
	Job    string `json:"job"`
	Binary string `json:"binary"`
}

// Problem is a job (or a package, when Arch is empty) that cannot build.
type Problem struct {
	Package string `json:"package"`
	Arch    string `json:"arch,omitempty"`
	Reason  string `json:"reason"`
}

func (p Problem) String() string {
	if p.Arch == "" {
		return p.Package + ": " + p.Reason
	}
	return p.Package + " (" + p.Arch + "): " + p.Reason
}

// Plan is the build graph.
type Plan struct {
	Arches   []string            `json:"arches"`
	Packages []*Package          `json:"packages"`
	Jobs     []*Job              `json:"jobs"` // in an order that respects Needs, higher rank first
	Blocked  map[string]*Problem `json:"blocked,omitempty"`
	Problems []Problem           `json:"problems,omitempty"`
	// CriticalPath is the chain of jobs with the most weight.
	CriticalPath []string `json:"critical_path"`
	byID         map[string]*Job
	sources      map[string]*Source // by package name
	owners       map[string]string  // by package name: "" or a SIG
}

// Job returns a job by ID.
func (p *Plan) Job(id string) *Job { return p.byID[id] }

// Input is what a plan is made of.
type Input struct {
	Arches   []string   // the distribution's arches
	Packages []*Package // with their Source
	Host     Provider
	// Weight estimates a job's duration (seconds); nil means 1 for all.
	Weight func(id string) float64
}

// Make computes the plan. It returns an error only for a malformed input;
// what cannot build is in Problems.
func Make(in Input) *Plan {
	p := &Plan{Arches: in.Arches, Packages: in.Packages, Blocked: map[string]*Problem{}, byID: map[string]*Job{}, sources: map[string]*Source{}, owners: map[string]string{}}
	hostArch := buildHost(in.Arches)
	for _, pkg := range in.Packages {
		p.sources[pkg.Name] = pkg.Source
		p.owners[pkg.Name] = pkg.Owner
		pkg.Arches = jobArches(pkg.Source, in.Arches)
		if len(pkg.Arches) == 0 {
			p.Problems = append(p.Problems, Problem{Package: pkg.Name,
				Reason: fmt.Sprintf("builds for no arch: the distribution's %s%s", strings.Join(in.Arches, " "), archLimits(pkg.Source))})
			continue
		}
		for _, a := range pkg.Arches {
			j := &Job{ID: pkg.Name + "/" + a, Package: pkg.Name, Arch: a, BuildArch: a, SRPM: pkg.Source.SRPM, SRPMFile: pkg.Source.File, Weight: 1}
			if a == arch.Noarch {
				j.BuildArch = hostArch
			}
			if in.Weight != nil {
				if w := in.Weight(j.ID); w > 0 {
					j.Weight = w
				}
			}
			p.Jobs = append(p.Jobs, j)
			p.byID[j.ID] = j
		}
	}
	p.findClashes()
	idx := p.index()
	for _, j := range p.Jobs {
		p.resolve(j, idx, in.Host)
	}
	p.findCycles()
	p.propagateBlocks()
	p.order()
	return p
}

// findClashes blocks core packages that make the same source or binary
// package name as another core package, compared as dnf users read names
// (in any case): one would replace the other in the repositories. A spec
// whose Name: is another package's, or a debranding that renames onto
// one, ends here. SIGs are the policy gate's.
func (p *Plan) findClashes() {
	type maker struct{ pkg, what string }
	seen := map[string]maker{}
	clash := map[string]string{}
	for _, pkg := range p.Packages {
		if pkg.Owner != "" || pkg.Source == nil {
			continue
		}
		names := map[string]string{strings.ToLower(pkg.Source.Header): "source package " + pkg.Source.Header}
		for _, bins := range pkg.Source.Binaries {
			for _, b := range bins {
				names[strings.ToLower(b.Name)] = "binary package " + b.Name
			}
		}
		delete(names, "")
		for _, key := range slices.Sorted(maps.Keys(names)) {
			if m, ok := seen[key]; ok && m.pkg != pkg.Name {
				clash[pkg.Name] = fmt.Sprintf("makes %s, which %s also makes (%s)", names[key], m.pkg, m.what)
				if _, ok := clash[m.pkg]; !ok {
					clash[m.pkg] = fmt.Sprintf("makes %s, which %s also makes (%s)", m.what, pkg.Name, names[key])
				}
				continue
			}
			seen[key] = maker{pkg.Name, names[key]}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(clash)) {
		p.Problems = append(p.Problems, Problem{Package: name, Reason: clash[name]})
		for _, j := range p.Jobs {
			if j.Package == name {
				p.Blocked[j.ID] = &Problem{Package: name, Arch: j.Arch, Reason: clash[name]}
			}
		}
	}
}

// buildHost is the arch noarch jobs build on: the host's, when the
// distribution has it.
func buildHost(arches []string) string {
	for _, a := range arches {
		if a == arch.Host() {
			return a
		}
	}
	if len(arches) > 0 {
		return arches[0]
	}
	return arch.Host()
}

func jobArches(src *Source, arches []string) []string {
	exclusive := func(a string) bool {
		return len(src.ExclusiveArch) == 0 || slices.Contains(src.ExclusiveArch, a)
	}
	if slices.Contains(src.BuildArch, arch.Noarch) {
		if !exclusive(arch.Noarch) && !slices.ContainsFunc(arches, exclusive) {
			return nil
		}
		return []string{arch.Noarch}
	}
	var out []string
	for _, a := range arches {
		if exclusive(a) && !slices.Contains(src.ExcludeArch, a) {
			out = append(out, a)
		}
	}
	return out
}

func archLimits(src *Source) string {
	s := ""
	if len(src.ExclusiveArch) > 0 {
		s += " ∩ ExclusiveArch " + strings.Join(src.ExclusiveArch, " ")
	}
	if len(src.ExcludeArch) > 0 {
		s += " − ExcludeArch " + strings.Join(src.ExcludeArch, " ")
	}
	return s + " is empty"
}

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
