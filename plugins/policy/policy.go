// Package policy is the gate between what a SIG plugin returns and what
// the core builds: each rule is checked on plain data, and every failure
// names the SIG, the item and the rule.
package policy

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/quarrylinux/quarry/core/layout"

	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/safetext"
	"github.com/quarrylinux/quarry/sdk"
)

// The rules, as their failures name them.
const (
	RuleCoreName     = "no-core-name"     // a SIG package never takes a core package's name
	RuleCoreProvides = "no-core-provides" // nor provides one
	RuleObsoletes    = "no-core-obsoletes"
	RulePath         = "relative-paths" // source files stay inside the package
	RuleSize         = "size-limit"
	RuleRepo         = "repo-namespace" // repositories are the SIG's, by id
	RuleName         = "valid-names"
	RuleKernel       = "kernel-flavour" // alternate kernels are renamed flavours
	RuleDuplicate    = "no-duplicates"
)

// Violation is one rule broken by one item of one SIG.
type Violation struct {
	SIG    string
	Item   string // "package kernel-mainline", "repo extras"
	Rule   string
	Detail string
}

func (v Violation) Error() string {
	return fmt.Sprintf("sig %s: %s: %s: %s", v.SIG, v.Item, v.Rule, v.Detail)
}

// Violations are a SIG's failures.
type Violations []Violation

func (vs Violations) Error() string {
	lines := make([]string, len(vs))
	for i, v := range vs {
		lines[i] = v.Error()
	}
	return strings.Join(lines, "\n")
}

// Err is nil without violations.
func (vs Violations) Err() error {
	if len(vs) == 0 {
		return nil
	}
	return vs
}

// Core is what the gate knows of the core distribution.
type Core struct {
	// Names are the core's package names, source and binary.
	Names map[string]bool
}

// Limits bound what a SIG may ship.
type Limits struct {
	PackageBytes int64 // one source package
	SIGBytes     int64 // all of a SIG's sources
}

// DefaultLimits are generous for specs and patches, not for a mirror.
var DefaultLimits = Limits{PackageBytes: 256 << 20, SIGBytes: 1 << 30}

// Gate checks one SIG's returns.
type Gate struct {
	SIG    string
	Distro string
	Core   Core
	Limits Limits
	// GitSources are the URLs (or prefixes ending in /) the SIG's git
	// sources may name: sigs[].git_sources.
	GitSources []string

	folded map[string]string // Core.Names, lower-cased
}

// coreName is the core package n names, in any case: to dnf and to
// people, Banner is banner. It says "x is a core package", with the
// core's spelling when it differs.
func (g *Gate) coreName(n string) (string, bool) {
	if g.folded == nil {
		g.folded = map[string]string{}
		for c := range g.Core.Names {
			g.folded[strings.ToLower(c)] = c
		}
	}
	c, ok := g.folded[strings.ToLower(n)]
	if !ok {
		if ReleaseName(g.Distro, n) {
			return fmt.Sprintf("%s is reserved: %s-release and %s-release-* are the core's release packages", n, g.Distro, g.Distro), true
		}
		return "", false
	}
	if c != n {
		return fmt.Sprintf("%s is a core package (%s: names are compared without case)", n, c), true
	}
	return n + " is a core package", true
}

var (
	idPattern      = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	packagePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
)

// ReleaseName says whether name (in any case) is <distro>-release or
// <distro>-release-*: the core's release package and the SIG release
// packages it builds, which carry the .repo files and keys every machine
// trusts. No SIG package takes, provides or obsoletes one.
func ReleaseName(distro, name string) bool {
	n, r := strings.ToLower(name), strings.ToLower(distro)+"-release"
	return distro != "" && (n == r || strings.HasPrefix(n, r+"-"))
}

// RepoID is the published id of a SIG repository.
func (g *Gate) RepoID(id string) string { return layout.Names(g.Distro).SIGRepoID(g.SIG, id) }

// Repos checks the SIG's repositories.
func (g *Gate) Repos(repos []sdk.Repo, arches []string) Violations {
	var vs Violations
	seen := map[string]bool{}
	for _, r := range repos {
		item := "repo " + r.ID
		if !idPattern.MatchString(r.ID) {
			vs = append(vs, Violation{g.SIG, item, RuleRepo, fmt.Sprintf("id %q must be lower-case letters, digits, - and _; it is published as %s", r.ID, g.RepoID("<id>"))})
		}
		if seen[r.ID] {
			vs = append(vs, Violation{g.SIG, item, RuleDuplicate, "listed twice"})
		}
		// The name is a line of the SIG's .repo file (name=), which the
		// core signs into <distro>-release-<sig>: a newline in it would
		// start lines of the SIG's choosing.
		for _, f := range [][2]string{{"name", r.Name}, {"description", r.Description}} {
			if p := safetext.LineProblem(f[1], 200); p != "" {
				vs = append(vs, Violation{g.SIG, item, RuleName, fmt.Sprintf("its %s %s", f[0], p)})
			}
		}
		if strings.ContainsAny(r.Name, "$%") {
			vs = append(vs, Violation{g.SIG, item, RuleName, "its name contains $ or %, which dnf and rpm expand"})
		}
		seen[r.ID] = true
		for _, a := range r.Arches {
			if !slices.Contains(arches, a) {
				vs = append(vs, Violation{g.SIG, item, RuleRepo, fmt.Sprintf("arch %s is not one of the distribution's (%s)", a, strings.Join(arches, ", "))})
			}
		}
	}
	return vs
}

// Packages checks source packages as returned: names, the repositories
// they go to, file paths and sizes. kernel marks the Kernels call.
func (g *Gate) Packages(pkgs []sdk.Package, repos []sdk.Repo) Violations {
	var vs Violations
	add := func(item, rule, format string, args ...any) {
		vs = append(vs, Violation{g.SIG, item, rule, fmt.Sprintf(format, args...)})
	}
	repoIDs := map[string]bool{}
	for _, r := range repos {
		repoIDs[r.ID] = true
	}
	names := map[string]bool{}
	for _, p := range pkgs {
		names[p.Name] = true
	}
	seen := map[string]bool{}
	var total int64
	for _, p := range pkgs {
		item := "package " + p.Name
		if !packagePattern.MatchString(p.Name) {
			add(item, RuleName, "%q is not a valid RPM name", p.Name)
		}
		if seen[p.Name] {
			add(item, RuleDuplicate, "returned twice")
		}
		seen[p.Name] = true
		if why, ok := g.coreName(p.Name); ok {
			add(item, RuleCoreName, "%s; a SIG ships its own names (e.g. %s-%s)", why, p.Name, g.SIG)
		}
		if !repoIDs[p.Repo] {
			add(item, RuleRepo, "goes to repository %q, which the SIG does not ship", p.Repo)
		}
		for _, a := range p.After {
			if !names[a] {
				add(item, RuleName, "builds after %s, which the SIG does not ship", a)
			}
		}
		if p.Git != nil {
			g.gitSource(item, p.Git, add)
		}
		if (p.Git == nil) == (len(p.Files) == 0) {
			add(item, RulePath, "give either files or a git source")
		}
		files := map[string]bool{}
		for _, f := range p.Files {
			if bad := badPath(f.Path); bad != "" {
				add(item, RulePath, "file %q: %s", f.Path, bad)
			}
			files[f.Path] = true
		}
		if len(p.Files) > 0 && !files[p.Spec] {
			add(item, RulePath, "its spec %q is not among its files", p.Spec)
		}
		if p.Spec == "" || badPath(p.Spec) != "" {
			add(item, RulePath, "spec path %q must be relative and inside the package", p.Spec)
		}
		if g.Limits.PackageBytes > 0 && p.Size() > g.Limits.PackageBytes {
			add(item, RuleSize, "%d bytes of sources, over the limit of %d", p.Size(), g.Limits.PackageBytes)
		}
		total += p.Size()
	}
	if g.Limits.SIGBytes > 0 && total > g.Limits.SIGBytes {
		add("all packages", RuleSize, "%d bytes of sources, over the SIG's limit of %d", total, g.Limits.SIGBytes)
	}
	return vs
}

// badPath says why a source path could leave its package, or "".
func badPath(p string) string {
	switch {
	case p == "":
		return "empty path"
	case strings.HasPrefix(p, "/"):
		return "absolute path"
	case strings.Contains(p, "\\"):
		return "backslash in path"
	case path.Clean(p) != p:
		return "not a clean path"
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "climbs out of the package (..)"
		}
	}
	return ""
}

// Kernels checks alternate kernels: each is kernel-<flavour>, in the
// SIG's repositories, with a config per arch it names.
func (g *Gate) Kernels(ks []sdk.Kernel, repos []sdk.Repo, arches []string) Violations {
	var vs Violations
	var pkgs []sdk.Package
	for _, k := range ks {
		item := "kernel " + k.Flavour
		if !idPattern.MatchString(k.Flavour) {
			vs = append(vs, Violation{g.SIG, item, RuleKernel, fmt.Sprintf("flavour %q must be lower-case letters, digits, - and _", k.Flavour)})
		}
		if want := "kernel-" + k.Flavour; k.Package.Name != want {
			vs = append(vs, Violation{g.SIG, item, RuleKernel, fmt.Sprintf("its package is %s; an alternate kernel is named %s", k.Package.Name, want)})
		}
		for a := range k.Configs {
			if !slices.Contains(arches, a) {
				vs = append(vs, Violation{g.SIG, item, RuleKernel, fmt.Sprintf("config for arch %s, which the distribution does not build", a)})
			}
		}
		pkgs = append(pkgs, k.Package)
	}
	return append(vs, g.Packages(pkgs, repos)...)
}

// Binaries checks what a SIG source package's spec makes (read with
// rpmspec by the core): no core name, no Provides, Obsoletes or Conflicts
// of a core name (in any case). Built checks what the jobs then wrote. A kernel flavour's binaries must all be renamed kernel-<flavour>*
// and may provide "kernel" (installonly), but obsolete nothing of the core.
func (g *Gate) Binaries(source string, bins []plan.Binary, flavour string) Violations {
	var vs Violations
	add := func(item, rule, format string, args ...any) {
		vs = append(vs, Violation{g.SIG, item, rule, fmt.Sprintf(format, args...)})
	}
	seen := map[string]bool{}
	for _, b := range bins {
		if seen[b.Name] {
			continue // one entry per arch
		}
		seen[b.Name] = true
		item := "package " + source
		if b.Name != source {
			item += " (subpackage " + b.Name + ")"
		}
		if why, ok := g.coreName(b.Name); ok {
			add(item, RuleCoreName, "%s", why)
		}
		if flavour != "" && !strings.HasPrefix(b.Name, "kernel-"+flavour) {
			add(item, RuleKernel, "every package of an alternate kernel is named kernel-%s*, not %s", flavour, b.Name)
		}
		for _, d := range b.Provides {
			if _, core := g.coreName(d.Name); core && !strings.EqualFold(d.Name, b.Name) && !(flavour != "" && d.Name == "kernel") {
				add(item, RuleCoreProvides, "Provides: %s, a core package", d)
			}
		}
		for _, d := range b.Obsoletes {
			if _, core := g.coreName(d.Name); core {
				add(item, RuleObsoletes, "Obsoletes: %s, a core package: a SIG never replaces the core", d)
			}
		}
		for _, d := range b.Conflicts {
			for _, name := range depNames(d.Name) { // rich ones too
				if _, core := g.coreName(name); core {
					add(item, RuleConflicts, "Conflicts: %s, a core package: a SIG never pushes the core out", d)
					break
				}
			}
		}
	}
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Item < vs[j].Item })
	return vs
}
