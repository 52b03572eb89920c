package policy

import (
	"path"
	"slices"

	"github.com/quarrylinux/quarry/core/readback"
)

// builtCoreFiles: a SIG package never owns a path a core package owns,
// where the path lands once its folders' links are followed. Directories
// are shared, as rpm shares them (every package owning /usr/share/doc/x
// also has /usr/share/doc); a directory where the core has a file or a
// link (or the reverse) is a conflict rpm refuses, and a file is one
// whatever its content.
func builtCoreFiles(r *readback.RPM, b Built, links map[string]string, add report) {
	for _, f := range r.Files {
		p := readback.Canonical(f.Path, links)
		o, ok := b.Core.Files[p]
		if !ok || (o.Kind == readback.Dir && f.Kind == readback.Dir) {
			continue
		}
		at := f.Path
		if p != path.Clean(f.Path) {
			at += " (" + p + ")"
		}
		add(RuleCoreFiles, "%s %s, which core package %s owns (%s)", f.Kind, at, o.Package, o.Kind)
	}
}

// builtManagerPaths: nothing of a SIG under the package manager's and the
// trust store's configuration (ManagerPaths), as written or as its links
// lead; the core-built release package ships its .repo file and key there.
func builtManagerPaths(r *readback.RPM, b Built, links map[string]string, add report) {
	for _, f := range r.Files {
		lit, p := path.Clean(f.Path), readback.Canonical(f.Path, links)
		if b.isRelease(r) && lit == p && slices.Contains(b.ReleasePaths, lit) {
			continue
		}
		mp := managerPath(lit)
		if mp == nil {
			mp = managerPath(p)
		}
		if mp == nil {
			continue
		}
		at := f.Path
		if p != lit {
			at += " (" + p + ")"
		}
		add(RuleManagerPaths, "%s %s is under %s: %s", f.Kind, at, mp.Pattern, mp.Why)
	}
}
