package main

import (
	"context"
	"fmt"
	"os"

	"github.com/quarrylinux/quarry/core/pipeline"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/srpm"
	"github.com/quarrylinux/quarry/plugins/intake"
	"github.com/quarrylinux/quarry/sdk"
)

// pipeline is the core pipeline over this command's config and state,
// its events shown by r (nil: none).
func (e *env) pipeline(r *reporter) *pipeline.Pipeline {
	p := &pipeline.Pipeline{Config: e.cfg, Store: e.store, Layout: e.lay, Keys: envKeys{e}, Log: e.log, Version: version, Via: os.Getenv(viaEnv)}
	if len(e.cfg.SIGs) > 0 {
		p.SIGs = e.sigSource()
	}
	if r != nil {
		p.Events = r.event
	}
	return p
}

// envKeys are the signing keys as the config names them.
type envKeys struct{ e *env }

func (k envKeys) Core() (*sign.Key, error)           { return k.e.signingKey() }
func (k envKeys) SIG(name string) (*sign.Key, error) { return k.e.sigKey(name) }

// sigSource is the plugin host with every SIG's config; a host that
// cannot be made (an unreadable sigs.lock) fails every SIG with why.
func (e *env) sigSource() pipeline.SIGSource {
	h, err := e.pluginHost()
	if err != nil {
		return brokenSource{err}
	}
	src := &intake.Source{Host: h, Store: e.store, Distro: e.sdkDistribution(), Configs: map[string]intake.SIGConfig{}, Log: e.log}
	for _, g := range e.cfg.SIGs {
		raw, err := g.ConfigJSON()
		if err != nil {
			return brokenSource{fmt.Errorf("%s:%d: sig %s: %w", e.cfg.File, g.Line, g.Name, err)}
		}
		src.Configs[g.Name] = intake.SIGConfig{Raw: raw, Where: fmt.Sprintf("%s:%d", e.cfg.File, g.Line), GitSources: g.GitSources}
	}
	return src
}

type brokenSource struct{ err error }

func (b brokenSource) Intake(context.Context, string, *srpm.Sources, sdk.Core, map[string]bool) (*intake.SIG, error) {
	return nil, b.err
}

func (b brokenSource) Installers(context.Context, string, string) (intake.InstallerMaker, error) {
	return nil, b.err
}
