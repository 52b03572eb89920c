package host

import (
	"io/fs"

	"github.com/quarrylinux/quarry/sdk"
	sigv1 "github.com/quarrylinux/quarry/sdk/internal/sigv1"
)

// Conversions between the plain types and the wire at the host's end:
// what a plugin sends, from its messages, and what the host sends it, to
// them. sdk/convert.go is the other half of each pair: a field added to a
// plain type is converted in both.

var capFromWireTable = map[sigv1.Capability]Capability{
	sigv1.Capability_CAPABILITY_REPOS: CapRepos, sigv1.Capability_CAPABILITY_PACKAGES: CapPackages,
	sigv1.Capability_CAPABILITY_KERNELS: CapKernels, sigv1.Capability_CAPABILITY_INSTALLERS: CapInstallers,
	sigv1.Capability_CAPABILITY_BUILD_INSTALLER: CapBuildInstaller,
}

func capFromWire(c sigv1.Capability) Capability {
	if cp, ok := capFromWireTable[c]; ok {
		return cp
	}
	return Capability("unknown(" + c.String() + ")")
}

func diagsFromWire(ds []*sigv1.Diagnostic) sdk.Diagnostics {
	var out sdk.Diagnostics
	for _, d := range ds {
		sev := sdk.Error
		if d.Severity == sigv1.Diagnostic_SEVERITY_WARNING {
			sev = sdk.Warning
		}
		out = append(out, sdk.Diagnostic{Severity: sev, Path: d.Path, Summary: d.Summary, Detail: d.Detail})
	}
	return out
}

func distToWire(d sdk.Distribution) *sigv1.Distribution {
	return &sigv1.Distribution{Name: d.Name, PrettyName: d.PrettyName, Version: d.Version, DistTag: d.DistTag, Arches: d.Arches}
}

func repoFromWire(r *sigv1.Repo) sdk.Repo {
	return sdk.Repo{ID: r.Id, Name: r.Name, Description: r.Description, Arches: r.Arches}
}

func packageFromHeader(w *sigv1.Package) sdk.Package {
	p := sdk.Package{Name: w.Name, Repo: w.Repo, Spec: w.Spec, After: w.After}
	if w.Git != nil {
		p.Git = &sdk.GitSource{URL: w.Git.Url, Commit: w.Git.Commit, Dir: w.Git.Dir}
	}
	return p
}

func installerFromWire(w *sigv1.Installer) sdk.Installer {
	in := sdk.Installer{Name: w.Name, Content: w.Content, Packages: w.Packages, Repos: w.Repos, Build: w.Build}
	switch w.Kind {
	case sigv1.Installer_KIND_KICKSTART:
		in.Kind = sdk.Kickstart
	case sigv1.Installer_KIND_IMAGE:
		in.Kind = sdk.Image
	default:
		in.Kind = sdk.InstallerKind(w.Kind.String())
	}
	return in
}

func corePackagesToWire(ps []sdk.CorePackage) []*sigv1.CorePackage {
	var out []*sigv1.CorePackage
	for _, p := range ps {
		out = append(out, &sigv1.CorePackage{Name: p.Name, Source: p.Source, Evr: p.EVR, Arch: p.Arch, Repo: p.Repo})
	}
	return out
}

func coreReposToWire(rs []sdk.CoreRepo) []*sigv1.CoreRepo {
	var out []*sigv1.CoreRepo
	for _, r := range rs {
		out = append(out, &sigv1.CoreRepo{Name: r.Name, Optional: r.Optional, Arches: r.Arches})
	}
	return out
}

func fileMode(m uint32) fs.FileMode {
	if m == 0 {
		return 0o644
	}
	return fs.FileMode(m) & fs.ModePerm
}
