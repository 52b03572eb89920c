package intake

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/quarrylinux/quarry/core/srpm"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/plugins"
	"github.com/quarrylinux/quarry/plugins/policy"
	"github.com/quarrylinux/quarry/sdk"
)

// SIGConfig is one SIG's block of the distribution's config.
type SIGConfig struct {
	Raw []byte // its config, as JSON
	// Where names the block in the config file (file:line), for errors.
	Where      string
	GitSources []string // where its git sources may come from
}

// Source is the SIG source the pipeline takes its SIGs from: the plugin
// host, with every SIG's config.
type Source struct {
	Host    *plugins.Host
	Store   *store.Store
	Distro  sdk.Distribution
	Configs map[string]SIGConfig
	Log     hclog.Logger
}

// Intake launches the SIG's plugin and returns what passed the gate.
func (s *Source) Intake(ctx context.Context, sig string, srcs *srpm.Sources, core sdk.Core, coreNames map[string]bool) (*SIG, error) {
	cfg, ok := s.Configs[sig]
	if !ok {
		return nil, fmt.Errorf("sig %s is not configured", sig)
	}
	in := &Intake{Host: s.Host, Store: s.Store, Sources: srcs, Core: core, Gate: policy.Core{Names: coreNames}, Limits: policy.DefaultLimits,
		Distro: s.Distro, GitSources: map[string][]string{sig: cfg.GitSources}}
	return in.Run(ctx, sig, cfg.Raw)
}

// InstallerMaker builds one SIG's installer artifacts; Close stops it.
// A *plugins.Plugin is one.
type InstallerMaker interface {
	BuildInstaller(ctx context.Context, req sdk.BuildRequest, w io.Writer) (sdk.Artifact, error)
	Close()
}

// Installers launches the SIG's plugin reading root, configured. Its
// installers are published: a SIG whose plugin is not the locked one (a
// dev override, or a plugin in debug mode) is refused before it starts.
func (s *Source) Installers(ctx context.Context, sig, root string) (InstallerMaker, error) {
	if what := s.Host.Unlocked(sig); what != "" {
		return nil, fmt.Errorf("sig %s would run %s to build installers for a publication; a publication runs locked plugins only (quarry plugin dev --clear %s)", sig, what, sig)
	}
	p, err := s.Host.LaunchReading(ctx, sig, root)
	if err != nil {
		return nil, err
	}
	if err := s.Configure(ctx, p); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Configure hands a launched SIG its config block; error diagnostics
// fail it, each named by its place in the config.
func (s *Source) Configure(ctx context.Context, p *plugins.Plugin) error {
	cfg, ok := s.Configs[p.SIG]
	if !ok {
		return fmt.Errorf("sig %s is not configured", p.SIG)
	}
	diags, err := p.Configure(ctx, sdk.ConfigureRequest{Config: cfg.Raw, Distribution: s.Distro})
	if err != nil {
		return err
	}
	for _, dg := range diags {
		if s.Log != nil {
			s.Log.Warn("sig config", "sig", p.SIG, "diagnostic", dg.String())
		}
	}
	if diags.HasErrors() {
		var lines []string
		for _, dg := range diags {
			if dg.Severity == sdk.Error {
				lines = append(lines, fmt.Sprintf("%s: sigs[%s].config.%s", cfg.Where, p.SIG, dg.String()))
			}
		}
		return fmt.Errorf("sig %s: its config is refused:\n%s", p.SIG, strings.Join(lines, "\n"))
	}
	return nil
}
