package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/provenance"
	"github.com/quarrylinux/quarry/core/publish"
	"github.com/quarrylinux/quarry/core/sign"
)

func outFlag() cli.Flag {
	return &cli.StringFlag{Name: "out", Value: "out", Usage: "the published tree `DIR`: DIR/current → DIR/composes/<id>"}
}

func publishCommand() *cli.Command {
	return &cli.Command{
		Name:  "publish",
		Usage: "compose, sign and publish what was last built, or roll back",
		Description: `Takes the outputs of the last build of every job of the current plan (it
builds nothing: run quarry build first), signs every RPM with the core key,
lays out repos/<repo>/<arch> (noarch packages in every arch, -debuginfo in
<repo>-debug, SRPMs in repos/source), writes and signs repodata, writes
manifest.json (every file of the compose with its sha256) and sigs.json,
each signed with the core key (manifest.json.asc, sigs.json.asc), and makes
the new compose current with one atomic rename. quarry verify checks it. The last publish.keep
composes stay on disk; --rollback makes the one before current again.`,
		Flags: []cli.Flag{
			outFlag(),
			&cli.BoolFlag{Name: "rollback", Usage: "make the compose before the current one current again"},
		},
		Action: func(c *cli.Context) error {
			e, err := setup(c)
			if err != nil {
				return err
			}
			pub := e.publisher(c)
			if c.Bool("rollback") {
				from, to, err := pub.Rollback()
				if err != nil {
					return fmt.Errorf("rollback: %w", err)
				}
				fmt.Printf("current: %s (was %s)\n", to, from)
				return nil
			}
			key, err := e.signingKey()
			if err != nil {
				return err
			}
			pl, err := e.makePlan(c)
			if err != nil {
				return err
			}
			b := &build.Builder{Plan: pl.Plan, Envs: pl.Envs, EnvErrors: pl.EnvErrors, Cache: e.cache(), Exec: notBuilt{}}
			res, err := b.Run(c.Context)
			if err != nil {
				return err
			}
			if err := res.Err(); err != nil || len(pl.Problems) > 0 {
				return cli.Exit(fmt.Sprintf("quarry: not everything is built (run quarry build): %v", err), 1)
			}
			return e.composeAndPublish(c, pl, res, key)
		},
	}
}

// notBuilt is the executor of publish: it only takes cached outputs.
type notBuilt struct{}

func (notBuilt) Run(_ context.Context, j *build.Job, _ io.Writer) (*build.Record, error) {
	return nil, errors.New("not built yet")
}

func (e *env) publisher(c *cli.Context) *publish.Publisher {
	out, _ := filepath.Abs(c.String("out"))
	return &publish.Publisher{Out: out, Keep: e.cfg.Publish.Keep}
}

// publishURL is where the .repo files point: the config's URL, or the
// local published tree.
func (e *env) publishURL(c *cli.Context) string {
	if u := e.cfg.Publish.URL; u != "" {
		return u
	}
	out, _ := filepath.Abs(c.String("out"))
	return "file://" + filepath.Join(out, "current")
}

// releaseFiles are what the core adds to the release package's sources:
// the .repo file of the core repositories and the public key.
func (e *env) releaseFiles(c *cli.Context) (map[string]map[string][]byte, error) {
	pkg := e.cfg.Release.Package
	if pkg == "" {
		return nil, nil
	}
	key, err := e.signingKey()
	if err != nil {
		return nil, fmt.Errorf("release package %s carries the public key: %w", pkg, err)
	}
	pub, err := key.PublicArmored()
	if err != nil {
		return nil, err
	}
	var defs []compose.RepoDef
	for _, r := range e.cfg.Repositories {
		defs = append(defs, compose.RepoDef{Name: r.Name, Optional: r.Optional})
	}
	d := e.cfg.Distribution
	repo := compose.RepoFile(d.Name, d.PrettyName, e.publishURL(c), e.keyName(), defs)
	return map[string]map[string][]byte{pkg: {d.Name + ".repo": repo, e.keyName(): pub}}, nil
}

// artifacts lists every RPM of a finished build, with its SRPMs, the
// core's and each SIG's. A noarch subpackage of an arch build is taken
// from the first arch only: each arch built its own copy. The same file
// from two source packages is kept twice, for the compose to refuse.
func artifacts(e *env, pl *planned, res *build.Result) []compose.Artifact {
	owner, repoOf := map[string]string{}, map[string]string{}
	for _, p := range pl.Plan.Packages {
		owner[p.Name] = p.Owner
	}
	for _, s := range pl.SIGs { // failed SIGs are no longer here
		for pkg, repo := range s.RepoOf {
			repoOf[pkg] = repo
		}
		repoOf[s.Release.Name] = "" // sig/release/<arch>: no repository name
	}
	var out []compose.Artifact
	seen := map[string]bool{}
	add := func(pkg string, a compose.Artifact) {
		if a.Arch == "noarch" || a.Arch == "src" {
			key := pkg + "/" + a.File
			if seen[key] {
				return
			}
			seen[key] = true
		}
		out = append(out, a)
	}
	for _, j := range pl.Plan.Jobs {
		rec := res.Records[j.ID]
		if rec == nil {
			continue
		}
		repo, sig := e.cfg.RepositoryOf(j.Package), owner[j.Package]
		if sig != "" {
			var ok bool
			if repo, ok = repoOf[j.Package]; !ok {
				continue // its SIG failed
			}
		}
		add(j.Package, compose.Artifact{File: rec.Job.SRPM.Name, SHA256: rec.Job.SRPM.SHA256, Name: j.Package, Arch: "src", Repo: repo, Job: j.ID, SIG: sig})
		for _, o := range rec.Outputs {
			add(j.Package, compose.Artifact{File: o.File, SHA256: o.SHA256, Name: o.Name, Arch: o.Arch, Repo: repo, Job: j.ID, SIG: sig})
		}
	}
	return out
}

// comps writes each repository's comps groups, checking that every
// package a group lists is one the core builds.
func (e *env) comps(arts []compose.Artifact) (map[string][]byte, error) {
	built := map[string]bool{}
	for _, a := range arts {
		if a.Arch != "src" {
			built[a.Name] = true
		}
	}
	out := map[string][]byte{}
	var problems []string
	for _, r := range e.cfg.Repositories {
		var groups []compose.Group
		for _, g := range r.Groups {
			for _, p := range g.Packages.All() {
				if !built[p.Name] {
					problems = append(problems, fmt.Sprintf("%s:%d: group %s of %s lists %s, which no core package builds", e.cfg.File, p.Line, g.ID, r.Name, p.Name))
				}
			}
			names := func(refs []config.PackageRef) []string {
				var out []string
				for _, p := range refs {
					out = append(out, p.Name)
				}
				return out
			}
			groups = append(groups, compose.Group{ID: g.ID, Name: g.Name, Description: g.Description, Default: g.Default, Visible: !g.Hidden,
				Mandatory: names(g.Packages.Mandatory), Defaults: names(g.Packages.Default), Optional: names(g.Packages.Optional)})
		}
		if len(groups) > 0 {
			out[r.Name] = compose.Comps(groups)
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return out, nil
}

// builderID names the build platform in provenance: the local executor.
const builderID = "https://github.com/quarrylinux/quarry/builder/local"

// composeAndPublish signs and lays out a finished build in a draft and
// makes it current; the current publication is untouched on any error.
// The built RPMs pass the gate first (gateBuilt), if the caller did not
// run it.
// The core is signed with the core key, each SIG with its own, into
// sig/<sig>/. A SIG that failed (at intake or here) keeps what the
// current publication has of it; the failure is returned after the
// publish, so the command still exits non-zero.
func (e *env) composeAndPublish(c *cli.Context, pl *planned, res *build.Result, key *sign.Key) error {
	// Nothing is signed or composed that the gate has not read back.
	if !pl.gated {
		refused, err := e.gateBuilt(pl, res)
		if err != nil {
			return err
		}
		if len(refused) > 0 {
			fmt.Fprintln(os.Stderr, "quarry:", refused)
			return cli.Exit(fmt.Sprintf("quarry: %d core RPMs refused; nothing published", len(refused)), 1)
		}
	}
	pub := e.publisher(c)
	prev := pub.CurrentDir()
	draft, err := pub.Begin()
	if err != nil {
		return fmt.Errorf("publish %s: %w", pub.Out, err)
	}
	committed := false
	defer func() {
		if !committed {
			draft.Discard()
		}
	}()
	start := time.Now()
	arts := artifacts(e, pl, res)
	bySIG := map[string][]compose.Artifact{}
	var coreArts []compose.Artifact
	for _, a := range arts {
		if a.SIG == "" {
			coreArts = append(coreArts, a)
		} else {
			bySIG[a.SIG] = append(bySIG[a.SIG], a)
		}
	}
	comp := e.composer(key, e.keyName(), e.log)
	if comp.Comps, err = e.comps(coreArts); err != nil {
		return err
	}
	// The SIG release packages go with the core's, signed with the core
	// key, into sig/release: always there, since the core's .repo file
	// names it.
	for _, a := range e.cfg.ArchNames() {
		comp.Empty = append(comp.Empty, compose.SIGReleaseDir+"/"+a)
	}
	cres, err := comp.Compose(c.Context, draft.Dir(), append(coreArts, bySIG[releaseOwner]...))
	if err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	failed := map[string]error{}
	for name, err := range pl.SIGErrors {
		failed[name] = err
	}
	for _, s := range pl.SIGs {
		err := e.composeSIG(c, draft.Dir(), s.Name, bySIG[s.Name], cres)
		if err != nil {
			os.RemoveAll(filepath.Join(draft.Dir(), "sig", s.Name))
			failed[s.Name] = err
		}
	}
	images := e.buildInstallers(c, draft.Dir(), pl, cres.Artifacts, failed)
	// A SIG whose installers failed takes none of this run's packages.
	kept := cres.Artifacts[:0]
	for _, a := range cres.Artifacts {
		if a.SIG == "" || a.SIG == releaseOwner || failed[a.SIG] == nil {
			kept = append(kept, a)
		}
	}
	cres.Artifacts = kept
	repos := cres.Repos[:0]
	for _, r := range cres.Repos {
		if parts := strings.Split(r, "/"); parts[0] != "sig" || failed[parts[1]] == nil {
			repos = append(repos, r)
		}
	}
	cres.Repos = repos
	lk, err := e.loadLock()
	if err != nil {
		return err
	}
	pw := &provenance.Writer{Key: key, Store: e.store, Distribution: e.cfg.Distribution.Name, Version: e.cfg.Distribution.Version,
		Builder: provenance.Builder{ID: builderID, Version: map[string]string{"quarry": version}}}
	if err := pw.Write(c.Context, draft.Dir(), cres.Artifacts, res.Records, lk); err != nil {
		return fmt.Errorf("provenance: %w", err)
	}
	var failures []string
	for _, name := range slices.Sorted(maps.Keys(failed)) {
		carried, err := publish.Carry(prev, draft.Dir(), name, e.sigKeyName(name), key.Public())
		if err != nil {
			return fmt.Errorf("sig %s: keep its current publication: %w", name, err)
		}
		cres.Artifacts = append(cres.Artifacts, carried.Artifacts...)
		cres.Repos = append(cres.Repos, carried.Repos...)
		images = append(images, carried.Images...)
		msg := failed[name].Error()
		if len(carried.Artifacts) > 0 {
			msg += fmt.Sprintf(" (its %d packages from the current publication are kept)", len(carried.Artifacts))
		}
		failures = append(failures, msg)
	}
	at := signedAt(res, cres.Artifacts)
	if err := e.writeSIGIndex(draft.Dir(), prev, pl, failed, key, at); err != nil {
		return fmt.Errorf("SIG index: %w", err)
	}
	// Last: the manifest lists (and its signature covers) every file.
	m := publish.Manifest{Distribution: e.cfg.Distribution.Name, Version: e.cfg.Distribution.Version, Key: key.Fingerprint(),
		Artifacts: cres.Artifacts, Repositories: cres.Repos, Images: images}
	if err := m.Write(draft.Dir(), key, at); err != nil {
		return fmt.Errorf("compose manifest: %w", err)
	}
	if c.Context.Err() != nil {
		return c.Context.Err()
	}
	id, err := draft.Commit(time.Now())
	if err != nil {
		return fmt.Errorf("publish %s: %w", pub.Out, err)
	}
	committed = true
	if err := e.commitLock(); err != nil {
		return err
	}
	e.log.Info("published", "compose", id, "took", time.Since(start))
	if e.json {
		json.NewEncoder(os.Stdout).Encode(map[string]any{"event": "published", "compose": id, "out": pub.Out, "packages": len(cres.Artifacts), "signed": cres.Signed, "repos_rewritten": cres.Rewritten, "repos": len(cres.Repos), "sig_failures": failures})
	} else {
		fmt.Printf("published compose %s: %d packages in %d repositories (%d newly signed, %d repodata rewritten) → %s\n",
			id, len(cres.Artifacts), len(cres.Repos), cres.Signed, cres.Rewritten, filepath.Join(pub.Out, "current"))
	}
	if len(failures) > 0 {
		for _, f := range failures {
			fmt.Fprintln(os.Stderr, "quarry:", f)
		}
		return cli.Exit(fmt.Sprintf("quarry: %d SIGs failed; the core and the other SIGs are published", len(failures)), 1)
	}
	return nil
}

// composeSIG signs a SIG's packages with the SIG's key into sig/<sig>/
// and adds them to res.
func (e *env) composeSIG(c *cli.Context, root, name string, arts []compose.Artifact, res *compose.Result) error {
	if len(arts) == 0 {
		return nil
	}
	key, err := e.sigKey(name)
	if err != nil {
		return err
	}
	sres, err := e.composer(key, e.sigKeyName(name), e.log.Named("sig."+name)).Compose(c.Context, root, arts)
	if err != nil {
		return fmt.Errorf("sig %s: compose: %w", name, err)
	}
	res.Add(sres)
	return nil
}

// composer signs with key (published as keyName) and composes with the
// config's repodata options and the state's compose cache.
func (e *env) composer(key *sign.Key, keyName string, log hclog.Logger) *compose.Composer {
	return &compose.Composer{Store: e.store, Cache: filepath.Join(e.state, "compose"), Key: key, KeyName: keyName, Arches: e.cfg.ArchNames(),
		Options: compose.Options{Compression: e.cfg.Publish.Compression}, Log: log}
}

// signedAt dates the signatures of a compose's manifest and SIG index:
// the end of the newest build it publishes, so that the same builds give
// the same bytes (before the key's creation, signing takes that instead).
func signedAt(res *build.Result, arts []*compose.Published) time.Time {
	var at time.Time
	for _, a := range arts {
		if r := res.Records[a.Job]; r != nil && r.End.After(at) {
			at = r.End
		}
	}
	return at.Truncate(time.Second)
}
