// Package plan is the build graph, in memory: from each package's Source
// (the plain facts of its SRPM and spec, which core/srpm makes), its
// arches (the distribution's ∩ ExclusiveArch − ExcludeArch, or one noarch
// build), and, per (package, arch) job, the binaries of the batch its
// BuildRequires need installed, hence the jobs it waits for. Problems (a BuildRequires nothing provides, a cycle, a package
// that builds for no arch) are found before any build starts; they block
// their jobs and those jobs' dependents, and everything else still builds.
package plan

import (
	"fmt"
	"maps"
	"slices"
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
	hostArch := BuildHost(in.Arches)
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

// BuildHost is the arch noarch jobs build on, and SRPMs are made on: the
// host's, when the distribution has it.
func BuildHost(arches []string) string {
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
