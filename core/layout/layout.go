// Package layout names every file and folder of a distribution's state and
// publication, and the names its SIGs' keys, repositories and release
// packages take: built here, once, for the CLI, the server, the pipeline
// and the machines that opt in.
package layout

import (
	"path/filepath"
	"strconv"
	"strings"
)

// Layout is one distribution's state folder and published tree.
type Layout struct {
	Distro string // the distribution's short name (distribution.name)
	State  string // the state folder (--state)
	Out    string // the published tree (--out): Out/current → Out/composes/<id>
}

// LockFile is quarry.lock: what was imported, pinned.
func (l Layout) LockFile() string { return filepath.Join(l.State, "quarry.lock") }

// BuildDir holds the job cache (records by key, the latest per job).
func (l Layout) BuildDir() string { return filepath.Join(l.State, "build") }

// WorkDir holds the folders of running jobs.
func (l Layout) WorkDir() string { return filepath.Join(l.State, "build", "work") }

// LastBuild is the recorded result of the last build, which publish reads.
func (l Layout) LastBuild() string { return filepath.Join(l.State, "build", "last.json") }

// ComposeCache holds the signed RPMs and repodata a compose reuses.
func (l Layout) ComposeCache() string { return filepath.Join(l.State, "compose") }

// LastPublish records what the last publish of each tree was made from,
// so that a run with nothing new publishes nothing.
func (l Layout) LastPublish() string { return filepath.Join(l.State, "compose", "published.json") }

// ReadbackCache holds the facts read back from built RPMs.
func (l Layout) ReadbackCache() string { return filepath.Join(l.State, "readback") }

// PluginWork is where SIG plugins run.
func (l Layout) PluginWork() string { return filepath.Join(l.State, "plugins") }

// DevOverrides are the SIG plugins run instead of the locked ones
// (quarry plugin dev).
func (l Layout) DevOverrides() string { return filepath.Join(l.State, "plugin-dev.json") }

// History is the run history database.
func (l Layout) History() string { return filepath.Join(l.State, "history.db") }

// Logs holds the logs of running jobs, by run, while they are written.
func (l Layout) Logs() string { return filepath.Join(l.State, "logs") }

// Engine holds the embedded JetStream server's streams, buckets and
// blobs (build.engine: embedded), kept across runs so that a restarted
// build finds its queued and finished jobs.
func (l Layout) Engine() string { return filepath.Join(l.State, "engine") }

// Worker holds a quarry worker's own folders (its work folder, its
// lock), by its name.
func (l Layout) Worker(name string) string {
	return filepath.Join(l.State, "workers", strings.NewReplacer("/", "_", "..", "_").Replace(name))
}

// ActionLogs holds the output of each action the console ran (quarry
// serve --token-file).
func (l Layout) ActionLogs() string { return filepath.Join(l.Logs(), "console") }

// RunLogs holds the logs of one run's running jobs.
func (l Layout) RunLogs(run int64) string { return filepath.Join(l.Logs(), strconv.FormatInt(run, 10)) }

// LiveLog is a running job's log, where the pipeline writes it and
// quarry log --follow and the console read it.
func (l Layout) LiveLog(run int64, job string) string {
	return filepath.Join(l.RunLogs(run), strings.ReplaceAll(job, "/", "@")+".log")
}

// BuildrootDigests caches the buildroot images' digests by file identity.
func (l Layout) BuildrootDigests() string { return filepath.Join(l.State, "buildroot-digests.json") }

// KeysDir holds the private keys: the core's and each SIG's.
func (l Layout) KeysDir() string { return filepath.Join(l.State, "keys") }

// CoreKeyFile is the core key quarry key init makes.
func (l Layout) CoreKeyFile() string { return filepath.Join(l.KeysDir(), "core.key") }

// SIGKeyFile is where a SIG's signing key lives: with the core's, out of
// every plugin's and build job's sight.
func (l Layout) SIGKeyFile(sig string) string {
	return filepath.Join(l.KeysDir(), "sig-"+sig+".key")
}

// Names of a distribution's files, for callers with only its name.
func Names(distro string) Layout { return Layout{Distro: distro} }

// KeyName is the core public key's file name in repositories and packages.
func (l Layout) KeyName() string { return "RPM-GPG-KEY-" + l.Distro }

// SIGKeyName is a SIG's public key file name.
func (l Layout) SIGKeyName(sig string) string { return "RPM-GPG-KEY-" + l.Distro + "-sig-" + sig }

// SIGRepoFile is the .repo file of a SIG's repositories.
func (l Layout) SIGRepoFile(sig string) string { return l.Distro + "-sig-" + sig + ".repo" }

// SIGRepoID is a SIG repository's dnf id.
func (l Layout) SIGRepoID(sig, id string) string { return l.Distro + "-sig-" + sig + "-" + id }

// ReleasePackage is <distro>-release-<sig>, which turns a SIG's
// repositories on.
func (l Layout) ReleasePackage(sig string) string { return l.Distro + "-release-" + sig }

// ReleasePaths are the files a SIG's release package ships under the
// package manager's paths, which no SIG package may.
func (l Layout) ReleasePaths(sig string) []string {
	return []string{"/etc/yum.repos.d/" + l.SIGRepoFile(sig), "/etc/pki/rpm-gpg/" + l.SIGKeyName(sig)}
}

// Current is the published tree's current compose.
func (l Layout) Current() string { return filepath.Join(l.Out, "current") }

// ReleaseOwner owns the SIG release packages: the core builds them, apart
// from its own repositories.
const ReleaseOwner = "release"
