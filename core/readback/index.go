package readback

import (
	"path"
	"strings"
)

// Index is what the core owns, read from its built RPMs: the names a SIG
// may not take, what it may not provide, and the paths it may not own.
type Index struct {
	// Names are package names, lower-cased (dnf and people match names
	// without case), to the core package that has it.
	Names map[string]string
	// Provides are every Provides name (sonames, file paths, config(),
	// plain names) to a core package providing it.
	Provides map[string]string
	// Files are every path a core package owns, canonical (see Canonical).
	Files map[string]Owned
	// Links are the core's symlinks by canonical path, with the
	// filesystem's own (/bin → usr/bin, ...): a path through them lands
	// where they point.
	Links map[string]string
}

// Owned is one core path and who owns it.
type Owned struct {
	Package string
	Kind    Kind
}

// Fold is how names are compared: Banner is banner to dnf and to users.
func Fold(name string) string { return strings.ToLower(name) }

// NewIndex indexes the core's built RPMs; names adds package names no RPM
// of this run carries (source names, binaries of arches not built here).
func NewIndex(rpms []*RPM, names ...string) *Index {
	x := &Index{Names: map[string]string{}, Provides: map[string]string{}, Files: map[string]Owned{}, Links: map[string]string{}}
	for k, v := range FilesystemLinks {
		x.Links[k] = v
	}
	for _, n := range names {
		x.Names[Fold(n)] = n
	}
	for _, r := range rpms {
		x.Names[Fold(r.Name)] = r.Name
		for _, p := range r.Provides {
			if _, ok := x.Provides[p.Name]; !ok {
				x.Provides[p.Name] = r.Name
			}
		}
		for _, f := range r.Files {
			if f.Kind == Symlink {
				x.Links[Canonical(f.Path, FilesystemLinks)] = f.Link
			}
		}
	}
	// Paths are made canonical once every link is known.
	for _, r := range rpms {
		for _, f := range r.Files {
			p := Canonical(f.Path, x.Links)
			if old, ok := x.Files[p]; !ok || old.Kind == Dir {
				x.Files[p] = Owned{Package: r.Name, Kind: f.Kind}
			}
		}
	}
	return x
}

// FilesystemLinks are the directory symlinks every Enterprise Linux
// system has (the filesystem package's /usr merge, and the links of
// dnf's and the trust store's folders): a package's /bin/x is /usr/bin/x
// once installed.
var FilesystemLinks = map[string]string{
	"/bin":             "usr/bin",
	"/sbin":            "usr/sbin",
	"/lib":             "usr/lib",
	"/lib64":           "usr/lib64",
	"/usr/tmp":         "../var/tmp",
	"/var/run":         "../run",
	"/var/lock":        "../run/lock",
	"/etc/yum/repos.d": "../yum.repos.d",
	"/etc/ssl/certs":   "../pki/tls/certs",
}

// Canonical resolves the folders of p through links (a symlink's path to
// its target, relative to the link's folder or absolute), as the kernel
// does when rpm writes p. The last component is not followed: a package
// that ships a symlink owns the link, not its target. Loops stop after 40
// hops, as ELOOP does.
func Canonical(p string, links map[string]string) string {
	p = path.Clean("/" + p)
	for hops := 0; hops < 40; hops++ {
		parts := strings.Split(p[1:], "/")
		cur, moved := "", false
		for i := 0; i < len(parts)-1; i++ {
			cur += "/" + parts[i]
			t, ok := links[cur]
			if !ok {
				continue
			}
			if !strings.HasPrefix(t, "/") {
				t = path.Join(path.Dir(cur), t)
			}
			p = path.Clean("/" + t + "/" + strings.Join(parts[i+1:], "/"))
			moved = true
			break
		}
		if !moved {
			return p
		}
	}
	return p
}
