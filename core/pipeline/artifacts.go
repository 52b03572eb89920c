package pipeline

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/config"
)

// artifacts lists every RPM of a finished build, with its SRPMs, the
// core's and each SIG's that passed. A noarch subpackage of an arch
// build is taken from the first arch only: each arch built its own copy.
// The same file from two source packages is kept twice, for the compose
// to refuse.
func (p *Pipeline) artifacts(b *Built) []compose.Artifact {
	repoOf := map[string]string{}
	for _, s := range b.SIGs { // failed SIGs are not here
		for pkg, repo := range s.RepoOf {
			repoOf[pkg] = repo
		}
		repoOf[s.Release] = "" // sig/release/<arch>: no repository name
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
	for _, j := range b.Jobs {
		rec := b.Records[j.ID]
		if rec == nil {
			continue
		}
		repo := p.Config.RepositoryOf(j.Package)
		if j.Owner != "" {
			var ok bool
			if repo, ok = repoOf[j.Package]; !ok {
				continue // its SIG failed
			}
		}
		add(j.Package, compose.Artifact{File: rec.Job.SRPM.Name, SHA256: rec.Job.SRPM.SHA256, Name: j.Package, Arch: "src", Repo: repo, Job: j.ID, SIG: j.Owner})
		for _, o := range rec.Outputs {
			add(j.Package, compose.Artifact{File: o.File, SHA256: o.SHA256, Name: o.Name, Arch: o.Arch, Repo: repo, Job: j.ID, SIG: j.Owner})
		}
	}
	return out
}

// comps writes each repository's comps groups, checking that every
// package a group lists is one the core builds.
func (p *Pipeline) comps(arts []compose.Artifact) (map[string][]byte, error) {
	built := map[string]bool{}
	for _, a := range arts {
		if a.Arch != "src" {
			built[a.Name] = true
		}
	}
	names := func(refs []config.PackageRef) []string {
		var out []string
		for _, r := range refs {
			out = append(out, r.Name)
		}
		return out
	}
	out := map[string][]byte{}
	var problems []string
	for _, r := range p.Config.Repositories {
		var groups []compose.Group
		for _, g := range r.Groups {
			for _, pr := range g.Packages.All() {
				if !built[pr.Name] {
					problems = append(problems, fmt.Sprintf("%s:%d: group %s of %s lists %s, which no core package builds", p.Config.File, pr.Line, g.ID, r.Name, pr.Name))
				}
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

// signedAt dates the signatures of a compose's manifest and SIG index:
// the end of the newest build it publishes, so that the same builds give
// the same bytes (before the key's creation, signing takes that instead).
func signedAt(b *Built, arts []*compose.Published) time.Time {
	var at time.Time
	for _, a := range arts {
		if r := b.Records[a.Job]; r != nil && r.End.After(at) {
			at = r.End
		}
	}
	return at.Truncate(time.Second)
}
