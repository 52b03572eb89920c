// Package sdk is what SIG plugin authors import: plain Go types, Serve and
// helpers over the versioned gRPC protocol. It arrives with the plugin
// protocol (issue 5); nothing here yet.
package sdk
