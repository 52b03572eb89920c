// Package sdk is what SIG plugin authors import: plain Go types, one small
// interface per capability, and Serve. The protocol's generated code stays
// behind it; the same package gives hosts (Quarry, the conformance suite)
// a client with the same plain types.
//
// A plugin is a main package:
//
//	func main() { sdk.Serve("hello", func() sdk.Plugin { return &hello{} }) }
//
// where *hello implements Plugin and any of RepoProvider, PackageProvider,
// KernelProvider, InstallerProvider and InstallerBuilder. Its capabilities
// are what it implements.
package sdk

// Version is this SDK's version, reported to the host.
const Version = "1.0.0"

// APIVersions are the protocol majors this SDK speaks, oldest first.
var APIVersions = []uint32{1}
