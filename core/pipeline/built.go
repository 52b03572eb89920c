package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/host"
)

// Built is a build's recorded result: everything Publish needs, so that
// it neither plans again nor launches the SIGs' plugins for what they
// already said. Build writes it to the state (Layout.LastBuild).
type Built struct {
	// Config and Lock are the digests of the config file and the lock it
	// was built from; Publish refuses a build of other ones.
	Config     string     `json:"config"`
	LockDigest string     `json:"lock_digest"`
	Lock       *lock.Lock `json:"lock"`
	// Key is the fingerprint of the core key the build's release
	// packages carry.
	Key string `json:"key,omitempty"`
	// BaseLock is the digest of quarry.lock when the build ran: the lock
	// its own import started from.
	BaseLock string     `json:"base_lock"`
	Jobs     []BuiltJob `json:"jobs"`
	// Records are the finished jobs' records, by job.
	Records map[string]*build.Record `json:"records"`
	// SIGs passed the gate; SIGErrors failed, by SIG.
	SIGs      []BuiltSIG        `json:"sigs"`
	SIGErrors map[string]string `json:"sig_errors,omitempty"`
	// The core's failures: jobs that failed, jobs skipped for them,
	// packages that cannot build, RPMs the gate refused.
	CoreFailed  []string `json:"core_failed,omitempty"`
	CoreSkipped int      `json:"core_skipped,omitempty"`
	CannotBuild []string `json:"cannot_build,omitempty"`
	Refused     []string `json:"refused,omitempty"`
	// Partial is a build of some packages only (BuildOptions.Only).
	Partial bool `json:"partial,omitempty"`
	// Dev are the SIGs whose packages came from a plugin that is not the
	// locked one (quarry plugin dev, or debug mode), with what ran: such
	// a build is never published.
	Dev map[string]string `json:"dev,omitempty"`
}

// BuiltJob is one job of a build.
type BuiltJob struct {
	ID      string `json:"id"`
	Package string `json:"package"`
	Arch    string `json:"arch"`
	// Owner is the package's: "", a SIG, or ReleaseOwner.
	Owner  string `json:"owner,omitempty"`
	SIG    string `json:"sig,omitempty"` // the SIG it belongs to (release packages too)
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// BuiltSIG is what a SIG that passed the gate publishes.
type BuiltSIG struct {
	Name       string            `json:"name"`
	Info       host.PluginInfo   `json:"info"`
	Repos      []sdk.Repo        `json:"repos"`
	RepoOf     map[string]string `json:"repo_of"` // package → repo id
	Installers []sdk.Installer   `json:"installers,omitempty"`
	Release    string            `json:"release"` // its release package
}

// buildFormat is the recorded result's format: a build recorded by
// another Quarry is built again, not misread.
const buildFormat = 1

type builtFile struct {
	Format int `json:"format"`
	*Built
}

func newBuilt(p *Pipeline, pl *Planned, res *build.Result) *Built {
	b := &Built{Config: p.configDigest(), LockDigest: pl.Lock.Digest(), Lock: pl.Lock, Records: res.Records, SIGErrors: map[string]string{}}
	if disk, err := lock.Load(p.Layout.LockFile()); err == nil {
		b.BaseLock = disk.Digest()
	}
	if k, err := p.Keys.Core(); err == nil {
		b.Key = k.Fingerprint()
	}
	owner := map[string]string{}
	for _, pk := range pl.Packages {
		owner[pk.Name] = pk.Owner
	}
	sigOf := pl.sigOf()
	for _, j := range pl.Jobs {
		bj := BuiltJob{ID: j.ID, Package: j.Package, Arch: j.Arch, Owner: owner[j.Package], SIG: sigOf[j.Package], Status: res.Status[j.ID]}
		if err := res.Errors[j.ID]; err != nil {
			bj.Error = err.Error()
		}
		b.Jobs = append(b.Jobs, bj)
	}
	return b
}

// setSIGs records the SIGs as the build and the gate left them.
func (b *Built) setSIGs(pl *Planned) {
	for _, s := range pl.SIGs {
		b.SIGs = append(b.SIGs, BuiltSIG{Name: s.Name, Info: s.Info, Repos: s.Repos, RepoOf: s.RepoOf, Installers: s.Installers, Release: s.Release.Name})
		if s.Dev != "" {
			if b.Dev == nil {
				b.Dev = map[string]string{}
			}
			b.Dev[s.Name] = s.Dev
		}
	}
	for name, err := range pl.SIGErrors {
		b.SIGErrors[name] = err.Error()
	}
}

// Counts are the jobs by status.
func (b *Built) Counts() map[string]int {
	c := map[string]int{}
	for _, j := range b.Jobs {
		c[j.Status]++
	}
	return c
}

// Err is a *BuildError when the core cannot be published.
func (b *Built) Err() error {
	if len(b.CoreFailed) == 0 && b.CoreSkipped == 0 && len(b.CannotBuild) == 0 && len(b.Refused) == 0 {
		return nil
	}
	return &BuildError{Failed: b.CoreFailed, Skipped: b.CoreSkipped, CannotBuild: b.CannotBuild, Refused: b.Refused}
}

// SIGErrorList is the SIGs' failures, sorted by SIG.
func (b *Built) SIGErrorList() []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(b.SIGErrors)) {
		out = append(out, b.SIGErrors[name])
	}
	return out
}

// BuildError is a build whose core cannot be published.
type BuildError struct {
	Failed      []string // the failed jobs' errors
	Skipped     int      // jobs skipped for them
	CannotBuild []string // packages that cannot build
	Refused     []string // RPMs the gate refused
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("%d core jobs failed or were skipped, %d core packages cannot build, %d core RPMs refused; nothing published",
		len(e.Failed)+e.Skipped, len(e.CannotBuild), len(e.Refused))
}

// SIGsError is SIGs that failed while the core (and, once published,
// the other SIGs) went on.
type SIGsError struct {
	Errors    []string
	Published bool
}

func (e *SIGsError) Error() string {
	if e.Published {
		return fmt.Sprintf("%d SIGs failed; the core and the other SIGs are published", len(e.Errors))
	}
	return fmt.Sprintf("%d SIGs failed", len(e.Errors))
}

// ErrNotBuilt is a publish with no recorded build to publish.
var ErrNotBuilt = errors.New("nothing is built yet (run quarry build)")

func (b *Built) save(path string) error {
	data, err := json.Marshal(builtFile{Format: buildFormat, Built: b})
	if err != nil {
		return err
	}
	if err := store.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("record the build: %w", err)
	}
	return nil
}

// LastBuilt is the last build's recorded result.
func (p *Pipeline) LastBuilt() (*Built, error) {
	path := p.Layout.LastBuild()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotBuilt
	}
	if err != nil {
		return nil, err
	}
	f := builtFile{Built: &Built{}}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Format != buildFormat {
		return nil, fmt.Errorf("%s: format %d, this Quarry reads %d (run quarry build)", path, f.Format, buildFormat)
	}
	if f.SIGErrors == nil {
		f.SIGErrors = map[string]string{}
	}
	return f.Built, nil
}

// configDigest digests what of the config a build depends on: all of
// it but what only the compose reads (signing, publish options but its
// URL, comps groups, push, the plugins' limits), the engine and the line
// numbers.
// (The signing key goes into the release packages: Built.Key checks it.)
func (p *Pipeline) configDigest() string {
	c := *p.Config
	c.File, c.Signing, c.Push, c.Plugins = "", config.Signing{}, nil, config.Plugins{}
	c.Publish = config.Publish{URL: p.Config.Publish.URL}
	// Where the jobs ran is not what they built from: a job's key and
	// outputs are the same on every engine.
	c.Build.Engine = config.Engine{}
	c.Repositories = slices.Clone(c.Repositories)
	for i := range c.Repositories {
		c.Repositories[i].Groups = nil
	}
	return digestConfig(&c)
}

// digestConfig digests a config but its line numbers.
func digestConfig(c *config.Config) string {
	data, err := json.Marshal(c)
	if err != nil {
		return ""
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return ""
	}
	data, _ = json.Marshal(withoutLines(v))
	return store.Digest(data)
}

// composeConfigDigest digests what of the config a compose depends on:
// all of it but the engine the jobs ran on and the line numbers (a
// comment or the engine changed is nothing new to publish).
func (p *Pipeline) composeConfigDigest() string {
	c := *p.Config
	c.File, c.Build.Engine = "", config.Engine{}
	return digestConfig(&c)
}

// withoutLines drops every "Line" of a decoded config.
func withoutLines(v any) any {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "Line")
		for k, e := range x {
			x[k] = withoutLines(e)
		}
	case []any:
		for i, e := range x {
			x[i] = withoutLines(e)
		}
	}
	return v
}
