package policy

import (
	"path"
	"strings"

	"github.com/quarrylinux/quarry/core/readback"
)

// builtTriggers: a SIG package runs no scriptlet when a core package is
// installed, updated or removed: no %trigger on a core name (or what a
// core package provides), no %filetrigger or %transfiletrigger on a
// prefix (rpm compares prefixes as strings) that covers a core path or
// the package manager's.
func builtTriggers(r *readback.RPM, b Built, links map[string]string, add report) {
	for _, t := range r.Triggers {
		if what, pkg, ok := coreCapability(t, b, links); ok && !strings.HasPrefix(t, "/") {
			add(RuleTriggers, "a %%trigger on %s, %s %s", t, what, pkg)
		}
	}
	for _, t := range r.FileTriggers {
		if c := coreUnder(t, b, links); c != "" {
			add(RuleTriggers, "a file trigger on %s, which covers %s", t, c)
		} else if mp := managerPathUnder(canonicalPrefix(t, links)); mp != nil {
			add(RuleTriggers, "a file trigger on %s, which covers %s (%s)", t, mp.Pattern, mp.Why)
		}
	}
}

// canonicalPrefix resolves a trigger prefix's folders, keeping a trailing
// slash.
func canonicalPrefix(t string, links map[string]string) string {
	p := readback.Canonical(t, links)
	if strings.HasSuffix(t, "/") && p != "/" {
		p += "/"
	}
	return p
}

// coreUnder names a core path (and its package) that a trigger prefix
// covers, as written or canonical, or "".
func coreUnder(t string, b Built, links map[string]string) string {
	prefixes := []string{t, canonicalPrefix(t, links)}
	if t == "" || path.Clean(t) == "/" {
		prefixes = []string{""}
	}
	// The first file it covers, or the first folder: one name, the same
	// every run.
	best, owner, bestDir := "", "", true
	for p, o := range b.Core.Files {
		for _, pre := range prefixes {
			isDir := o.Kind == readback.Dir
			if strings.HasPrefix(p, pre) && (best == "" || (bestDir && !isDir) || (bestDir == isDir && p < best)) {
				best, owner, bestDir = p, o.Package, isDir
			}
		}
	}
	if best == "" {
		return ""
	}
	return best + " (core package " + owner + ")"
}
