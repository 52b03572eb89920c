package host

import "regexp"

// Capability is one thing a plugin can do.
type Capability string

// The capabilities, one per provider interface of package sdk.
const (
	CapRepos          Capability = "repos"           // sdk.RepoProvider
	CapPackages       Capability = "packages"        // sdk.PackageProvider
	CapKernels        Capability = "kernels"         // sdk.KernelProvider
	CapInstallers     Capability = "installers"      // sdk.InstallerProvider
	CapBuildInstaller Capability = "build-installer" // sdk.InstallerBuilder
)

// PluginInfo is what a host learns first from a plugin.
type PluginInfo struct {
	SIG          string
	Version      string
	SDKVersion   string
	APIVersions  []uint32
	Capabilities []Capability
	Description  string
}

// Has reports whether the plugin declares a capability.
func (p PluginInfo) Has(c Capability) bool {
	for _, have := range p.Capabilities {
		if have == c {
			return true
		}
	}
	return false
}

var semver = regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// ValidVersion reports whether a plugin version is semver (1.2.3).
func ValidVersion(v string) bool { return semver.MatchString(v) }
