package policy

import (
	"strings"

	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/readback"
)

// builtName: a SIG package never takes a core name, in any case: dnf
// install Banner finds banner, and so do people.
func builtName(r *readback.RPM, b Built, add report) {
	if core, ok := b.Core.Names[readback.Fold(r.Name)]; ok {
		add(RuleCoreName, "its name %s is core package %s's", r.Name, core)
	} else if ReleaseName(b.Distro, r.Name) && !b.isRelease(r) {
		add(RuleCoreName, "its name %s is reserved: %s-release and %s-release-* are the core's release packages", r.Name, b.Distro, b.Distro)
	}
}

// coreCapability says which core package answers to a dependency name: by
// its name (any case), by a Provides (sonames, config(), plain), or as a
// file it owns (rpm satisfies a path from file lists).
func coreCapability(name string, b Built, links map[string]string) (what, pkg string, ok bool) {
	if pkg, ok := b.Core.Names[readback.Fold(name)]; ok {
		return "the name of core package", pkg, true
	}
	if ReleaseName(b.Distro, name) {
		return "the name of a core release package", name, true
	}
	if pkg, ok := b.Core.Provides[name]; ok {
		return "which core package", pkg + " provides", true
	}
	if strings.HasPrefix(name, "/") {
		if o, ok := b.Core.Files[readback.Canonical(name, links)]; ok {
			return "a path core package", o.Package + " owns", true
		}
	}
	return "", "", false
}

// builtProvides: a SIG package never provides what a core package does,
// or dnf could pick it to satisfy what needs the core's. An alternate
// kernel provides what every kernel does.
func builtProvides(r *readback.RPM, b Built, links map[string]string, add report) {
	flavour := b.Flavours[r.Package]
	for _, d := range r.Provides {
		if readback.Fold(d.Name) == readback.Fold(r.Name) || b.isRelease(r) {
			continue // its own name: no-core-name's; the release package's own
		}
		if flavour != "" && KernelProvides[d.Name] {
			continue
		}
		if what, pkg, ok := coreCapability(d.Name, b, links); ok {
			add(RuleCoreProvides, "Provides: %s, %s %s", d, what, pkg)
		}
	}
}

// builtObsoletes: a SIG package never replaces a core one on update
// (rpm matches Obsoletes against names).
func builtObsoletes(r *readback.RPM, b Built, add report) {
	for _, d := range r.Obsoletes {
		if pkg, ok := b.Core.Names[readback.Fold(d.Name)]; ok || ReleaseName(b.Distro, d.Name) {
			if !ok {
				pkg = d.Name
			}
			add(RuleObsoletes, "Obsoletes: %s, the name of core package %s: a SIG never replaces the core", d, pkg)
		}
	}
}

// builtConflicts: a SIG package never pushes a core package out (rpm
// matches Conflicts against names, Provides and files).
func builtConflicts(r *readback.RPM, b Built, links map[string]string, add report) {
	for _, d := range r.Conflicts {
		for _, name := range depNames(d.Name) { // rich ones too
			if what, pkg, ok := coreCapability(name, b, links); ok {
				add(RuleConflicts, "Conflicts: %s, %s %s: a SIG never pushes the core out", d, what, pkg)
				break
			}
		}
	}
}

// builtWeakReverse: a SIG package never has dnf pull it in because a core
// package is installed (Supplements, Enhances): on a machine that opted
// in, it would arrive with the core's packages unasked. A rich
// dependency names the core if any of its names does.
func builtWeakReverse(r *readback.RPM, b Built, links map[string]string, add report) {
	for _, kind := range []struct {
		tag  string
		deps []plan.Dep
	}{{"Supplements", r.Supplements}, {"Enhances", r.Enhances}} {
		for _, d := range kind.deps {
			for _, name := range depNames(d.Name) {
				if what, pkg, ok := coreCapability(name, b, links); ok {
					add(RuleWeakReverse, "%s: %s, %s %s: a SIG package is installed when asked for, not with the core's", kind.tag, d, what, pkg)
					break
				}
			}
		}
	}
}

// depNames are the names in a dependency, rich ones included: "(a and (b
// or c >= 2))" names a, b and c.
func depNames(dep string) []string {
	if !strings.HasPrefix(dep, "(") {
		return []string{dep}
	}
	var out []string
	afterOp := false
	for _, f := range strings.FieldsFunc(dep, func(r rune) bool { return r == '(' || r == ')' || r == ' ' }) {
		switch f {
		case "and", "or", "if", "else", "with", "without", "unless":
			afterOp = false
			continue
		case "<", "<=", "=", ">", ">=":
			afterOp = true
			continue
		}
		if afterOp {
			afterOp = false
			continue // the version a comparison names (389-ds-base is a name)
		}
		out = append(out, f)
	}
	return out
}
