package pipeline

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/provenance"
	"github.com/quarrylinux/quarry/core/publish"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/store"
)

// BuilderID names the build platform in provenance: the local executor.
const BuilderID = "https://github.com/quarrylinux/quarry/builder/local"

// Published is what a publish made current.
type Published struct {
	Compose string `json:"compose"` // the current compose's id
	Out     string `json:"out"`
	// Nothing is set when the build held nothing new: the current
	// compose was made from the same inputs, and no compose was made.
	Nothing   bool `json:"nothing,omitempty"`
	Packages  int  `json:"packages"`
	Repos     int  `json:"repos"`
	Signed    int  `json:"signed"`          // packages newly signed
	Rewritten int  `json:"repos_rewritten"` // repositories whose repodata was written
	// SIGFailures are the SIGs that failed, each with what was kept.
	SIGFailures []string `json:"sig_failures,omitempty"`
}

// Publisher is the published tree.
func (p *Pipeline) Publisher() *publish.Publisher {
	return &publish.Publisher{Out: p.Layout.Out, Keep: p.Config.Publish.Keep}
}

// Publish signs and lays out a recorded build in a draft and makes it
// current, then writes the lock the build was made from; the current
// publication is untouched on any error. The core is signed with the
// core key, each SIG with its own, into sig/<sig>/. A SIG that failed
// keeps what the current publication has of it; the failure is a
// *SIGsError returned with the result. A build with nothing new (the
// current compose was published from the same inputs) publishes
// nothing: Published.Nothing.
func (p *Pipeline) Publish(ctx context.Context, b *Built) (*Published, error) {
	if err := b.Err(); err != nil {
		return nil, err
	}
	if b.Partial {
		return nil, errors.New("a build of some packages only cannot be published (run quarry build)")
	}
	if len(b.Dev) > 0 {
		return nil, &DevBuildError{SIGs: b.Dev}
	}
	key, err := p.Keys.Core()
	if err != nil {
		return nil, err
	}
	if d := p.configDigest(); d != b.Config {
		return nil, fmt.Errorf("%s changed since the last build in what the build depends on (run quarry build)", p.Config.File)
	}
	if b.Key != "" && b.Key != key.Fingerprint() {
		return nil, fmt.Errorf("the signing key is %s, the last build's release packages carry %s (run quarry build)", key.Fingerprint(), b.Key)
	}
	if err := p.checkLock(b); err != nil {
		return nil, err
	}
	arts := p.artifacts(b)
	pub := p.Publisher()
	inputs := publishInputs(b, arts, key, p.composeConfigDigest())
	if cur, ok := p.unchanged(pub, inputs); ok {
		out := &Published{Compose: cur, Out: pub.Out, Nothing: true}
		p.emit(Event{Kind: EventNothing, Phase: PhasePublish, Compose: cur, Detail: "nothing new since compose " + cur})
		if len(b.SIGErrors) > 0 {
			out.SIGFailures = b.SIGErrorList()
			return out, &SIGsError{Errors: out.SIGFailures}
		}
		return out, p.commitLock(b)
	}
	p.phase(PhaseCompose)
	prev := pub.CurrentDir()
	draft, err := pub.Begin()
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", pub.Out, err)
	}
	committed := false
	defer func() {
		if !committed {
			draft.Discard()
		}
	}()
	start := time.Now()
	bySIG := map[string][]compose.Artifact{}
	var coreArts []compose.Artifact
	for _, a := range arts {
		if a.SIG == "" {
			coreArts = append(coreArts, a)
		} else {
			bySIG[a.SIG] = append(bySIG[a.SIG], a)
		}
	}
	comp := p.composer(key, p.Layout.KeyName(), p.log())
	if comp.Comps, err = p.comps(coreArts); err != nil {
		return nil, err
	}
	// The SIG release packages go with the core's, signed with the core
	// key, into sig/release: always there, since the core's .repo file
	// names it.
	for _, a := range p.Config.ArchNames() {
		comp.Empty = append(comp.Empty, compose.SIGReleaseDir+"/"+a)
	}
	cres, err := comp.Compose(ctx, draft.Dir(), append(coreArts, bySIG[ReleaseOwner]...))
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	failed := map[string]error{}
	for name, msg := range b.SIGErrors {
		failed[name] = errors.New(msg)
	}
	for _, s := range b.SIGs {
		if err := p.composeSIG(ctx, draft.Dir(), s.Name, bySIG[s.Name], cres); err != nil {
			os.RemoveAll(filepath.Join(draft.Dir(), "sig", s.Name))
			failed[s.Name] = err
			p.emit(Event{Kind: EventSIG, Phase: PhaseCompose, SIG: s.Name, Status: "failed", Detail: err.Error()})
		}
	}
	p.phase(PhaseInstaller)
	images := p.installers(ctx, draft.Dir(), b, cres.Artifacts, failed)
	// A SIG whose installers failed takes none of this run's packages.
	cres.Artifacts = slices.DeleteFunc(cres.Artifacts, func(a *compose.Published) bool {
		return a.SIG != "" && a.SIG != ReleaseOwner && failed[a.SIG] != nil
	})
	cres.Repos = slices.DeleteFunc(cres.Repos, func(r string) bool {
		parts := strings.Split(r, "/")
		return parts[0] == "sig" && len(parts) > 1 && failed[parts[1]] != nil
	})
	p.phase(PhasePublish)
	pw := &provenance.Writer{Key: key, Store: p.Store, Distribution: p.Config.Distribution.Name, Version: p.Config.Distribution.Version,
		Builder: provenance.Builder{ID: BuilderID, Version: map[string]string{"quarry": p.Version}}}
	if err := pw.Write(ctx, draft.Dir(), cres.Artifacts, b.Records, b.Lock); err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	var failures []string
	for _, name := range slices.Sorted(maps.Keys(failed)) {
		carried, err := publish.Carry(prev, draft.Dir(), name, p.Layout.SIGKeyName(name), key.Public())
		if err != nil {
			return nil, fmt.Errorf("sig %s: keep its current publication: %w", name, err)
		}
		cres.Artifacts = append(cres.Artifacts, carried.Artifacts...)
		cres.Repos = append(cres.Repos, carried.Repos...)
		images = append(images, carried.Images...)
		msg := failed[name].Error()
		if n := len(carried.Artifacts); n > 0 {
			msg += fmt.Sprintf(" (its %d packages from the current publication are kept)", n)
		}
		if n := len(carried.Images); n > 0 {
			msg += fmt.Sprintf(" (its %d installer images from the current publication are kept)", n)
		}
		failures = append(failures, msg)
	}
	at := signedAt(b, cres.Artifacts)
	if err := p.sigIndex(draft.Dir(), prev, b, failed, key, at); err != nil {
		return nil, fmt.Errorf("SIG index: %w", err)
	}
	// Last: the manifest lists (and its signature covers) every file.
	m := publish.Manifest{Distribution: p.Config.Distribution.Name, Version: p.Config.Distribution.Version, Key: key.Fingerprint(),
		Artifacts: cres.Artifacts, Repositories: cres.Repos, Images: images}
	if err := m.Write(draft.Dir(), key, at); err != nil {
		return nil, fmt.Errorf("compose manifest: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	id, err := draft.Commit(p.now())
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", pub.Out, err)
	}
	committed = true
	if err := p.recordPublish(pub, id, inputs); err != nil {
		p.log().Warn("cannot record what was published", "error", err)
	}
	if err := p.commitLock(b); err != nil {
		return nil, err
	}
	p.log().Info("published", "compose", id, "took", time.Since(start))
	out := &Published{Compose: id, Out: pub.Out, Packages: len(cres.Artifacts), Repos: len(cres.Repos), Signed: cres.Signed, Rewritten: cres.Rewritten, SIGFailures: failures}
	p.emit(Event{Kind: EventPublished, Phase: PhasePublish, Compose: id, Done: out.Packages, Total: out.Packages,
		Counts: map[string]int{"packages": out.Packages, "repos": out.Repos, "signed": out.Signed, "repos_rewritten": out.Rewritten, "sig_failures": len(failures)}})
	if len(failures) > 0 {
		return out, &SIGsError{Errors: failures, Published: true}
	}
	return out, nil
}

// composeSIG signs a SIG's packages with the SIG's key into sig/<sig>/
// and adds them to res.
func (p *Pipeline) composeSIG(ctx context.Context, root, name string, arts []compose.Artifact, res *compose.Result) error {
	if len(arts) == 0 {
		return nil
	}
	key, err := p.Keys.SIG(name)
	if err != nil {
		return err
	}
	sres, err := p.composer(key, p.Layout.SIGKeyName(name), p.log().Named("sig."+name)).Compose(ctx, root, arts)
	if err != nil {
		return fmt.Errorf("sig %s: compose: %w", name, err)
	}
	res.Add(sres)
	return nil
}

// composer signs with key (published as keyName) and composes with the
// config's repodata options and the state's compose cache.
func (p *Pipeline) composer(key *sign.Key, keyName string, log hclog.Logger) *compose.Composer {
	return &compose.Composer{Store: p.Store, Cache: p.Layout.ComposeCache(), Key: key, KeyName: keyName, Arches: p.Config.ArchNames(),
		Options: compose.Options{Compression: p.Config.Publish.Compression}, Log: log}
}

// checkLock refuses a build of another lock than quarry.lock, unless
// quarry.lock is the one that build's own import started from (a run
// that failed after its build: its publish commits the new lock).
func (p *Pipeline) checkLock(b *Built) error {
	disk, err := lock.Load(p.Layout.LockFile())
	if err != nil {
		return err
	}
	if d := disk.Digest(); d != b.LockDigest && d != b.BaseLock {
		return fmt.Errorf("%s changed since the last build (run quarry build)", p.Layout.LockFile())
	}
	return nil
}

// commitLock writes the lock the build was made from.
func (p *Pipeline) commitLock(b *Built) error {
	if _, err := b.Lock.Save(p.Layout.LockFile()); err != nil {
		return fmt.Errorf("write %s: %w", p.Layout.LockFile(), err)
	}
	return nil
}

// publishInputs digests everything a compose is made of: the artifacts
// and the jobs that made them, the SIGs as published and those that
// failed, the whole config file (groups and publish options too), the
// lock and the key.
func publishInputs(b *Built, arts []compose.Artifact, key *sign.Key, config string) string {
	// In a stable order: the plan's follows the jobs' last durations.
	arts = slices.Clone(arts)
	slices.SortFunc(arts, func(x, y compose.Artifact) int {
		return cmp.Or(cmp.Compare(x.Job, y.Job), cmp.Compare(x.File, y.File), cmp.Compare(x.Arch, y.Arch))
	})
	keys := map[string]string{}
	for _, a := range arts {
		if r := b.Records[a.Job]; r != nil {
			keys[a.Job] = r.Key
		}
	}
	failed := slices.Sorted(maps.Keys(b.SIGErrors))
	data, _ := json.Marshal(struct {
		Config, Lock, Key string
		Artifacts         []compose.Artifact
		Jobs              map[string]string
		SIGs              []BuiltSIG
		Failed            []string
	}{config, b.LockDigest, key.Fingerprint(), arts, keys, b.SIGs, failed})
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// configFileDigest is the sha256 of the config file as it is now.
func (p *Pipeline) configFileDigest() string {
	data, err := os.ReadFile(p.Config.File)
	if err != nil {
		return ""
	}
	return store.Digest(data)
}

// lastPublish is, by published tree, its last compose and what it was
// made from.
type lastPublish map[string]struct {
	Compose string `json:"compose"`
	Inputs  string `json:"inputs"`
}

func (p *Pipeline) readLastPublish() lastPublish {
	out := lastPublish{}
	if data, err := os.ReadFile(p.Layout.LastPublish()); err == nil {
		json.Unmarshal(data, &out) // unreadable: publish again
	}
	return out
}

// unchanged is the current compose, if it was published from inputs.
func (p *Pipeline) unchanged(pub *publish.Publisher, inputs string) (string, bool) {
	cur, err := pub.Current()
	if err != nil || cur == "" {
		return "", false
	}
	last, ok := p.readLastPublish()[pub.Out]
	return cur, ok && last.Compose == cur && last.Inputs == inputs
}

func (p *Pipeline) recordPublish(pub *publish.Publisher, id, inputs string) error {
	last := p.readLastPublish()
	last[pub.Out] = struct {
		Compose string `json:"compose"`
		Inputs  string `json:"inputs"`
	}{id, inputs}
	data, err := json.MarshalIndent(last, "", "  ")
	if err != nil {
		return err
	}
	return store.WriteFile(p.Layout.LastPublish(), data, 0o644)
}

// DevBuildError is a publish refused because SIGs' packages came from a
// plugin that is not the locked one: a publication is a release, and a
// release is built by locked plugins only.
type DevBuildError struct{ SIGs map[string]string }

func (e *DevBuildError) Error() string {
	var parts []string
	for _, sig := range slices.Sorted(maps.Keys(e.SIGs)) {
		parts = append(parts, fmt.Sprintf("sig %s ran %s", sig, e.SIGs[sig]))
	}
	return fmt.Sprintf("not published: %s; a publication is a release, built by locked plugins only (quarry plugin dev --clear, quarry plugin lock, quarry build)", strings.Join(parts, "; "))
}
