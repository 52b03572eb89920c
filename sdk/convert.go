package sdk

import (
	sigv1 "github.com/quarrylinux/quarry/sdk/internal/sigv1"
)

// Conversions between the plain types and the wire at the plugin's end:
// what a plugin sends, to its messages, and what it receives, from them.
// sdk/host/convert.go is the other half of each pair: a field added to a
// plain type is converted in both.

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

func distFromWire(d *sigv1.Distribution) Distribution {
	if d == nil {
		return Distribution{}
	}
	return Distribution{Name: d.Name, PrettyName: d.PrettyName, Version: d.Version, DistTag: d.DistTag, Arches: d.Arches}
}

func repoToWire(r Repo) *sigv1.Repo {
	return &sigv1.Repo{Id: r.ID, Name: r.Name, Description: r.Description, Arches: r.Arches}
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

func corePackagesFromWire(ps []*sigv1.CorePackage) []CorePackage {
	var out []CorePackage
	for _, p := range ps {
		out = append(out, CorePackage{Name: p.Name, Source: p.Source, EVR: p.Evr, Arch: p.Arch, Repo: p.Repo})
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
