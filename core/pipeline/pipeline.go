// Package pipeline is Quarry's pipeline: import → plan → build → gate →
// compose and sign → publish. Each stage is one method that takes plain
// inputs and returns plain results; each reads what the one before it
// recorded (Publish reads the last build's recorded result, it does not
// plan again). Run is the stages in order. The CLI, the web console and
// a distributed coordinator all call it, and learn what happens through
// typed Events.
//
// What the pipeline needs from outside it is behind three small
// interfaces: Keys (the signing keys, reachable by the signing step
// alone), SIGSource (the SIG plugins, implemented by the plugin host)
// and build.Executor (where jobs run).
package pipeline

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/history"
	"github.com/quarrylinux/quarry/core/layout"
	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/srpm"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/plugins/intake"
	"github.com/quarrylinux/quarry/sdk"
)

// Keys are the signing keys. The core key signs the core and every
// compose's manifest; each SIG's key signs its packages.
type Keys interface {
	Core() (*sign.Key, error)
	SIG(name string) (*sign.Key, error)
}

// SIGSource runs the SIGs' plugins.
type SIGSource interface {
	// Intake runs one SIG's plugin and returns what passed the SIG gate,
	// its packages' SRPMs made by srcs; core answers its questions about
	// the core, whose names (coreNames) it may not ship.
	Intake(ctx context.Context, sig string, srcs *srpm.Sources, core sdk.Core, coreNames map[string]bool) (*intake.SIG, error)
	// Installers starts the SIG's plugin to build installer artifacts
	// from the composed tree root, which it may only read.
	Installers(ctx context.Context, sig, root string) (intake.InstallerMaker, error)
}

// Pipeline is one distribution's pipeline over its state folder.
type Pipeline struct {
	Config *config.Config
	Store  *store.Store
	Layout layout.Layout
	Keys   Keys
	// SIGs runs the configured SIGs' plugins; nil fails every SIG.
	SIGs SIGSource
	Log  hclog.Logger
	// Events, when set, is told what happens, as it happens. It is called
	// from one goroutine at a time.
	Events func(Event)
	// Version is Quarry's; it names the builder in provenance.
	Version string
	// Now dates runs; nil is time.Now.
	Now func() time.Time
	// History, when set, records every run (Run, and Publish called on
	// its own through PublishRun).
	History *history.DB
	// Via says what started the runs, when it was not the user at a
	// terminal ("console"): the history records it with the user.
	Via string

	run int64 // the run being recorded
}

// BuildLimits bound build jobs, SRPM builds and spec queries.
func (p *Pipeline) BuildLimits() sandbox.Limits {
	l := p.Config.Build.Limits
	return sandbox.Limits{Time: l.Time, Procs: l.Processes, Disk: int64(l.Disk), Log: int64(l.Log), Setting: "build.limits"}
}

// PublishURL is where the .repo files point: the config's URL, or the
// local published tree.
func (p *Pipeline) PublishURL() string {
	if u := p.Config.Publish.URL; u != "" {
		return u
	}
	return "file://" + p.Layout.Current()
}

// Cache is the job cache.
func (p *Pipeline) Cache() *build.Cache {
	return &build.Cache{Dir: p.Layout.BuildDir(), Store: p.Store}
}

func (p *Pipeline) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pipeline) log() hclog.Logger {
	if p.Log == nil {
		return hclog.NewNullLogger()
	}
	return p.Log
}
