// Package sdk is what SIG plugin authors import: plain Go types, one small
// interface per capability, and Serve. The protocol's generated code stays
// behind it. The host's end, a client with the same plain types (for
// Quarry and the conformance suite), is sdk/host; sdk/sdktest serves a
// plugin in a test and gives that client for it.
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
