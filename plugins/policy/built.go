package policy

import (
	"fmt"

	"github.com/quarrylinux/quarry/core/readback"
)

// The rules on what a SIG's jobs built, read back from each RPM's header
// (with no-core-name, no-core-provides and no-core-obsoletes, which apply
// to built RPMs as to declared ones).
const (
	RuleUndeclared   = readback.RuleUndeclared // the RPM is one the spec declared
	RuleConflicts    = "no-core-conflicts"     // a SIG package never refuses to coexist with the core
	RuleWeakReverse  = "no-core-supplements"   // nor gets itself pulled in by a core package
	RuleCoreFiles    = "no-core-files"         // nor owns a file a core package owns
	RuleManagerPaths = "no-package-manager-paths"
	RuleTriggers     = "no-core-triggers" // nor runs scriptlets when core packages or paths change
)

// Built is what the gate knows besides a SIG's RPMs.
type Built struct {
	// Core is the core's index, from its built RPMs of this run.
	Core *readback.Index
	// Flavours are the SIG's kernel packages (source name → flavour): an
	// alternate kernel provides what makes it a kernel (KernelProvides).
	Flavours map[string]string
	// Release is <distro>-release-<sig>, which the core builds for the
	// SIG; ReleasePaths are the files (its .repo file and key) that it
	// alone ships under the package manager's paths.
	Release      string
	ReleasePaths []string
	// Distro is the distribution's name: <distro>-release and every
	// <distro>-release-* are the core's names (ReleaseName).
	Distro string
}

// isRelease says whether r is the core-built release package itself: its
// name, and the job that built it. A SIG's spec can choose the name of
// what it builds; it cannot choose which job built it.
func (b Built) isRelease(r *readback.RPM) bool {
	return b.Release != "" && r.Name == b.Release && r.Package == b.Release
}

// KernelProvides are what every kernel package provides, so an alternate
// kernel may too: dnf keeps it installonly, and uname-based requirements
// see it.
var KernelProvides = map[string]bool{"kernel": true, "kernel-uname-r": true, "installonlypkg(kernel)": true, "installonlypkg(kernel-module)": true}

// Built checks the RPMs a SIG's jobs (and its release package's) wrote
// against the core's: one violation per item, naming the RPM file.
func (g *Gate) Built(rpms []*readback.RPM, b Built) Violations {
	// A SIG's own symlinks lead its files elsewhere too (/opt/x → /etc).
	links := map[string]string{}
	for k, v := range b.Core.Links {
		links[k] = v
	}
	for _, r := range rpms {
		for _, f := range r.Files {
			if f.Kind == readback.Symlink {
				links[readback.Canonical(f.Path, b.Core.Links)] = f.Link
			}
		}
	}
	var vs Violations
	if b.Distro == "" {
		b.Distro = g.Distro
	}
	for _, r := range rpms {
		add := func(rule, format string, args ...any) {
			vs = append(vs, Violation{g.SIG, "rpm " + r.File, rule, fmt.Sprintf(format, args...)})
		}
		builtName(r, b, add)
		builtProvides(r, b, links, add)
		builtObsoletes(r, b, add)
		builtConflicts(r, b, links, add)
		builtWeakReverse(r, b, links, add)
		builtCoreFiles(r, b, links, add)
		builtManagerPaths(r, b, links, add)
		builtTriggers(r, b, links, add)
	}
	return vs
}

// report adds one violation of a rule.
type report func(rule, format string, args ...any)
