// Package plugins is the host side of SIG plugins: discovery, lock-file hash
// checks, launch, version negotiation, sandbox and the policy gate. It
// arrives with the plugin protocol (issue 5); nothing here yet.
package plugins
