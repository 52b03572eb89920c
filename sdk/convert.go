package sdk

import (
	"io/fs"

	sigv1 "github.com/quarrylinux/quarry/proto/quarry/sig/v1"
)

// Conversions between the plain types and the wire, used by both ends.

var capToWire = map[Capability]sigv1.Capability{
	CapRepos: sigv1.Capability_CAPABILITY_REPOS, CapPackages: sigv1.Capability_CAPABILITY_PACKAGES,
	CapKernels: sigv1.Capability_CAPABILITY_KERNELS, CapInstallers: sigv1.Capability_CAPABILITY_INSTALLERS,
	CapBuildInstaller: sigv1.Capability_CAPABILITY_BUILD_INSTALLER,
}

func capFromWire(c sigv1.Capability) Capability {
	for k, v := range capToWire {
		if v == c {
			return k
		}
	}
	return Capability("unknown(" + c.String() + ")")
}

func diagsToWire(ds Diagnostics) []*sigv1.Diagnostic {
	var out []*sigv1.Diagnostic
	for _, d := range ds {
		sev := sigv1.Diagnostic_SEVERITY_ERROR
		if d.Severity == Warning {
			sev = sigv1.Diagnostic_SEVERITY_WARNING
		}
		out = append(out, &sigv1.Diagnostic{Severity: sev, Path: d.Path, Summary: d.Summary, Detail: d.Detail})
	}
	return out
}

func diagsFromWire(ds []*sigv1.Diagnostic) Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		sev := Error
		if d.Severity == sigv1.Diagnostic_SEVERITY_WARNING {
			sev = Warning
		}
		out = append(out, Diagnostic{Severity: sev, Path: d.Path, Summary: d.Summary, Detail: d.Detail})
	}
	return out
}

func distToWire(d Distribution) *sigv1.Distribution {
	return &sigv1.Distribution{Name: d.Name, PrettyName: d.PrettyName, Version: d.Version, DistTag: d.DistTag, Arches: d.Arches}
}

func distFromWire(d *sigv1.Distribution) Distribution {
	if d == nil {
		return Distribution{}
	}
	return Distribution{Name: d.Name, PrettyName: d.PrettyName, Version: d.Version, DistTag: d.DistTag, Arches: d.Arches}
}

func repoToWire(r Repo) *sigv1.Repo {
	return &sigv1.Repo{Id: r.ID, Name: r.Name, Description: r.Description, Arches: r.Arches}
}

func repoFromWire(r *sigv1.Repo) Repo {
	return Repo{ID: r.Id, Name: r.Name, Description: r.Description, Arches: r.Arches}
}

// packageHeader is a package without its files: what precedes them in a
// stream.
func packageHeader(p Package) *sigv1.Package {
	w := &sigv1.Package{Name: p.Name, Repo: p.Repo, Spec: p.Spec, After: p.After, Size: p.Size()}
	if p.Git != nil {
		w.Git = &sigv1.GitSource{Url: p.Git.URL, Commit: p.Git.Commit, Dir: p.Git.Dir}
	}
	return w
}

func packageFromHeader(w *sigv1.Package) Package {
	p := Package{Name: w.Name, Repo: w.Repo, Spec: w.Spec, After: w.After}
	if w.Git != nil {
		p.Git = &GitSource{URL: w.Git.Url, Commit: w.Git.Commit, Dir: w.Git.Dir}
	}
	return p
}

func installerToWire(in Installer) *sigv1.Installer {
	kind := sigv1.Installer_KIND_UNSPECIFIED
	switch in.Kind {
	case Kickstart:
		kind = sigv1.Installer_KIND_KICKSTART
	case Image:
		kind = sigv1.Installer_KIND_IMAGE
	}
	return &sigv1.Installer{Name: in.Name, Kind: kind, Content: in.Content, Packages: in.Packages, Repos: in.Repos, Build: in.Build}
}

func installerFromWire(w *sigv1.Installer) Installer {
	in := Installer{Name: w.Name, Content: w.Content, Packages: w.Packages, Repos: w.Repos, Build: w.Build}
	switch w.Kind {
	case sigv1.Installer_KIND_KICKSTART:
		in.Kind = Kickstart
	case sigv1.Installer_KIND_IMAGE:
		in.Kind = Image
	default:
		in.Kind = InstallerKind(w.Kind.String())
	}
	return in
}

func corePackagesToWire(ps []CorePackage) []*sigv1.CorePackage {
	var out []*sigv1.CorePackage
	for _, p := range ps {
		out = append(out, &sigv1.CorePackage{Name: p.Name, Source: p.Source, Evr: p.EVR, Arch: p.Arch, Repo: p.Repo})
	}
	return out
}

func corePackagesFromWire(ps []*sigv1.CorePackage) []CorePackage {
	var out []CorePackage
	for _, p := range ps {
		out = append(out, CorePackage{Name: p.Name, Source: p.Source, EVR: p.Evr, Arch: p.Arch, Repo: p.Repo})
	}
	return out
}

func coreReposToWire(rs []CoreRepo) []*sigv1.CoreRepo {
	var out []*sigv1.CoreRepo
	for _, r := range rs {
		out = append(out, &sigv1.CoreRepo{Name: r.Name, Optional: r.Optional, Arches: r.Arches})
	}
	return out
}

func coreReposFromWire(rs []*sigv1.CoreRepo) []CoreRepo {
	var out []CoreRepo
	for _, r := range rs {
		out = append(out, CoreRepo{Name: r.Name, Optional: r.Optional, Arches: r.Arches})
	}
	return out
}

func fileMode(m uint32) fs.FileMode {
	if m == 0 {
		return 0o644
	}
	return fs.FileMode(m) & fs.ModePerm
}
