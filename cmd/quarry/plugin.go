package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/plugins"
	"github.com/quarrylinux/quarry/plugins/intake"
	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/sdk/host"
)

func pluginCommand() *cli.Command {
	return &cli.Command{
		Name:  "plugin",
		Usage: "SIG plugins: pin their binaries, list what they offer, check their conformance",
		Subcommands: []*cli.Command{
			pluginCheckCommand(),
			pluginDevCommand(),
			{
				Name:  "lock",
				Usage: "record the sha256 of every configured SIG's binary in sigs.lock",
				Description: `Finds quarry-sig-<name> for every SIG in quarry.yaml (plugins.dirs, default
bin/ beside quarry.yaml), and writes its sha256 to sigs.lock beside quarry.yaml.
Quarry checks the hash before every launch: a binary that changed does not run
until it is locked again.`,
				Action: func(c *cli.Context) error {
					e, err := setup(c)
					if err != nil {
						return err
					}
					path := e.sigLockPath()
					lk, err := plugins.LoadLock(path)
					if err != nil {
						return err
					}
					for _, g := range e.cfg.SIGs {
						bin, err := plugins.Find(g.Name, e.cfg.PluginDirs())
						if err != nil {
							return err
						}
						sum, err := plugins.FileSHA256(bin)
						if err != nil {
							return err
						}
						old := lk.Plugins[g.Name]
						lk.Plugins[g.Name] = &plugins.Pinned{Binary: filepath.Base(bin), SHA256: sum}
						status := "locked"
						if old != nil && old.SHA256 == sum {
							status = "unchanged"
						} else if old != nil {
							status = "updated"
						}
						fmt.Printf("%-12s %s %s (%s)\n", g.Name, sum, bin, status)
					}
					return lk.Save(path)
				},
			},
			{
				Name:  "list",
				Usage: "launch every configured SIG and show what it is and offers",
				Action: func(c *cli.Context) error {
					e, err := setup(c)
					if err != nil {
						return err
					}
					h, err := e.pluginHost()
					if err != nil {
						return err
					}
					failed := 0
					for _, g := range e.cfg.SIGs {
						row, err := describeSIG(c, e, h, g.Name)
						if err != nil {
							failed++
							fmt.Fprintln(os.Stderr, "quarry:", err)
							continue
						}
						if e.json {
							json.NewEncoder(os.Stdout).Encode(row)
							continue
						}
						fmt.Printf("%-12s %-8s api v%d  sdk %-6s %-28s repos: %s\n", row.SIG, row.Version, row.API, row.SDK,
							strings.Join(row.Capabilities, ","), strings.Join(row.Repos, " "))
					}
					if failed > 0 {
						return cli.Exit(fmt.Sprintf("quarry: %d SIGs failed", failed), 1)
					}
					return nil
				},
			},
		},
	}
}

type sigRow struct {
	SIG          string   `json:"sig"`
	Version      string   `json:"version"`
	SDK          string   `json:"sdk"`
	API          int      `json:"api"`
	Capabilities []string `json:"capabilities"`
	Repos        []string `json:"repos"`
}

// describeSIG launches and configures one SIG and lists its repositories.
func describeSIG(c *cli.Context, e *env, h *plugins.Host, name string) (*sigRow, error) {
	p, err := h.Launch(c.Context, name)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	if err := e.configureSIG(c, p); err != nil {
		return nil, err
	}
	row := &sigRow{SIG: name, Version: p.Info.Version, SDK: p.Info.SDKVersion, API: p.API}
	for _, cp := range p.Info.Capabilities {
		row.Capabilities = append(row.Capabilities, string(cp))
	}
	if p.Info.Has(host.CapRepos) {
		repos, err := p.Repos(c.Context)
		if err != nil {
			return nil, err
		}
		for _, r := range repos {
			row.Repos = append(row.Repos, e.lay.SIGRepoID(name, r.ID))
		}
	}
	return row, nil
}

// sdkDistribution describes the core to plugins.
func (e *env) sdkDistribution() sdk.Distribution {
	d := e.cfg.Distribution
	return sdk.Distribution{Name: d.Name, PrettyName: d.PrettyName, Version: d.Version, DistTag: d.DistTag, Arches: e.cfg.ArchNames()}
}

func (e *env) sigLockPath() string { return filepath.Join(filepath.Dir(e.cfg.File), plugins.LockFile) }

// pluginHost is the host for this config's SIGs, with the dev overrides
// and the plugins in debug mode a SIG lead set up.
func (e *env) pluginHost() (*plugins.Host, error) {
	lk, err := plugins.LoadLock(e.sigLockPath())
	if err != nil {
		return nil, err
	}
	dev, reattach, err := e.devPlugins()
	if err != nil {
		return nil, err
	}
	return &plugins.Host{Dirs: e.cfg.PluginDirs(), Lock: lk, Work: e.lay.PluginWork(), Limits: e.pluginLimits(), MaxStderr: int64(e.cfg.Plugins.Limits.Log),
		StartTimeout: e.cfg.Plugins.StartTimeout, CallTimeout: e.cfg.Plugins.CallTimeout, Log: e.log, HostVersion: version,
		Dev: dev, Reattach: reattach}, nil
}

// configureSIG hands a SIG its config block; error diagnostics fail it.
func (e *env) configureSIG(c *cli.Context, p *plugins.Plugin) error {
	src, ok := e.sigSource().(*intake.Source)
	if !ok {
		_, err := e.sigSource().Intake(c.Context, p.SIG, nil, nil, nil) // its error
		return err
	}
	return src.Configure(c.Context, p)
}
