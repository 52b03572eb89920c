package readback

import (
	"fmt"
	"sort"
	"strings"

	"github.com/quarrylinux/quarry/core/plan"
)

// RuleUndeclared is the rule every job's outputs answer to, the core's and
// the SIGs': each RPM is one that the spec declared for the job's arch.
const RuleUndeclared = "undeclared-rpm"

// Problem is one built RPM that breaks a rule, in one job.
type Problem struct {
	Job    string
	File   string
	Rule   string
	Detail string
}

func (p Problem) Error() string {
	return fmt.Sprintf("%s: rpm %s: %s: %s", p.Job, p.File, p.Rule, p.Detail)
}

// Problems are a job's (or a run's) failures.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Err is nil without problems.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// Declared checks one job's RPMs against the binaries its spec declares
// for the job's arch (plan.Source.Binaries[arch], what rpmspec listed):
// the same name, EVR and arch, once each, in a file named after its
// header. The -debuginfo and -debugsource packages rpm generates on its
// own (never listed by an older rpmspec) are declared by the packages they
// come from: <binary>-debuginfo and <source>-debug{info,source} with the
// same EVR and arch as an arch-specific binary of the job.
func Declared(job, source string, declared []plan.Binary, rpms []*RPM) Problems {
	want := map[string]bool{}
	var listed []string
	for _, b := range declared {
		nevra := b.Name + "-" + b.EVR + "." + b.Arch
		if !want[nevra] {
			listed = append(listed, nevra)
		}
		want[nevra] = true
	}
	for _, b := range declared {
		if b.Arch == "noarch" {
			continue // rpm makes no debuginfo for noarch
		}
		for _, n := range []string{b.Name + "-debuginfo", source + "-debuginfo", source + "-debugsource"} {
			want[n+"-"+b.EVR+"."+b.Arch] = true
		}
	}
	sort.Strings(listed)
	var ps Problems
	seen := map[string]string{}
	for _, r := range rpms {
		add := func(format string, args ...any) {
			ps = append(ps, Problem{Job: job, File: r.File, Rule: RuleUndeclared, Detail: fmt.Sprintf(format, args...)})
		}
		nevra := r.NEVRA()
		switch {
		case !want[nevra]:
			add("job %s wrote %s, which the spec of %s does not declare for %s (it declares %s)",
				job, nevra, source, archOf(job), orNothing(listed))
		case seen[nevra] != "":
			add("%s is built twice by job %s (also as %s)", nevra, job, seen[nevra])
		case r.File != r.FileName():
			add("its header is %s, so its file would be %s", nevra, r.FileName())
		}
		if seen[nevra] == "" {
			seen[nevra] = r.File
		}
	}
	return ps
}

func archOf(job string) string {
	if i := strings.LastIndexByte(job, '/'); i >= 0 {
		return job[i+1:]
	}
	return job
}

func orNothing(list []string) string {
	if len(list) == 0 {
		return "nothing"
	}
	return strings.Join(list, ", ")
}
