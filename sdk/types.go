package sdk

import (
	"context"
	"io/fs"
)

// Plugin is what every SIG plugin implements.
type Plugin interface {
	// Info describes the plugin: its version (semver) and what it is.
	Info() Info
	// Configure takes the SIG's block of quarry.yaml. Problems are
	// diagnostics with paths into that block; an error diagnostic stops
	// the SIG.
	Configure(ctx context.Context, req ConfigureRequest) Diagnostics
}

// RepoProvider ships optional repositories.
type RepoProvider interface {
	Repos(ctx context.Context) ([]Repo, error)
}

// PackageProvider ships the source packages of the SIG's repositories.
type PackageProvider interface {
	Packages(ctx context.Context) ([]Package, error)
}

// KernelProvider ships alternate kernel flavours.
type KernelProvider interface {
	Kernels(ctx context.Context) ([]Kernel, error)
}

// InstallerProvider ships kickstarts and image definitions.
type InstallerProvider interface {
	Installers(ctx context.Context) ([]Installer, error)
}

// InstallerBuilder builds an installer's artifact from the composed
// repositories (read-only), writing it into the scratch folder.
type InstallerBuilder interface {
	BuildInstaller(ctx context.Context, req BuildRequest) (Artifact, error)
}

// Info describes a plugin.
type Info struct {
	Version     string // semver: 1.2.0
	Description string
}

// Distribution describes the core distribution to a plugin.
type Distribution struct {
	Name       string
	PrettyName string
	Version    string
	DistTag    string
	Arches     []string
}

// ConfigureRequest is what Configure receives.
type ConfigureRequest struct {
	// Config is the SIG's block of quarry.yaml as JSON; Decode reads it.
	Config       []byte
	Distribution Distribution
	// Core answers read-only questions about the core; nil when the host
	// serves none.
	Core Core
}

// Core is what a plugin may ask the host about the core distribution.
type Core interface {
	Packages(ctx context.Context, names ...string) ([]CorePackage, error)
	Repos(ctx context.Context) ([]CoreRepo, error)
}

// CorePackage is one binary package of the core.
type CorePackage struct {
	Name, Source, EVR, Arch, Repo string
}

// CoreRepo is one core repository.
type CoreRepo struct {
	Name     string
	Optional bool
	Arches   []string
}

// Repo is an optional repository the SIG ships. The host publishes it as
// <distro>-sig-<sig>-<id>.
type Repo struct {
	ID          string
	Name        string
	Description string
	Arches      []string // empty: every core arch
}

// Package is a source package: a spec and its sources, either as Files
// or in git.
type Package struct {
	Name string
	Repo string // a Repo ID of this SIG
	Spec string // the spec's path among Files (or in the git folder)
	// Files are the spec and its sources, paths relative to the package.
	Files []File
	Git   *GitSource
	// After names packages of this SIG to build first.
	After []string
}

// Size is the sum of the package's file sizes.
func (p Package) Size() int64 {
	var n int64
	for _, f := range p.Files {
		n += int64(len(f.Data))
	}
	return n
}

// File is one file of a source package.
type File struct {
	Path string // relative, slash-separated
	Mode fs.FileMode
	Data []byte
}

// GitSource is a source package kept in git; the host fetches it.
type GitSource struct {
	URL    string
	Commit string
	Dir    string // the folder in the repository; "" for its root
}

// Kernel is an alternate kernel flavour: a package set named
// kernel-<Flavour>, with a config fragment per arch.
type Kernel struct {
	Flavour string
	Package Package
	Configs map[string][]byte
}

// InstallerKind says what an installer is.
type InstallerKind string

// The installer kinds.
const (
	Kickstart InstallerKind = "kickstart"
	Image     InstallerKind = "image"
)

// Installer is a kickstart or an image definition.
type Installer struct {
	Name    string
	Kind    InstallerKind
	Content []byte
	// Packages it installs and Repos it installs from (core names such
	// as BaseOS, and this SIG's repo IDs); checked before anything builds.
	Packages []string
	Repos    []string
	// Build asks the host to call BuildInstaller after the compose.
	Build bool
}

// BuildRequest asks for an installer's artifact.
type BuildRequest struct {
	Name string
	// ReposDir is the composed publication, read-only.
	ReposDir string
	// ScratchDir is the plugin's own writable folder.
	ScratchDir string
}

// Artifact is a built installer: a file the plugin wrote in its scratch
// folder, streamed to the host.
type Artifact struct {
	Name      string
	MediaType string
	Path      string
	// Packages are what it contains (name-version-release.arch); the
	// compose manifest lists them.
	Packages []string
}
