package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	goplugin "github.com/hashicorp/go-plugin"
	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/plugins"
	sdkhost "github.com/quarrylinux/quarry/sdk/host"
)

func pluginDevCommand() *cli.Command {
	return &cli.Command{
		Name:      "dev",
		Usage:     "run a local build of a SIG's plugin instead of the locked one, without re-locking",
		ArgsUsage: "[NAME PATH]",
		Description: `quarry plugin dev NAME PATH runs the plugin binary at PATH for SIG NAME from
now on, in this state folder, instead of the binary sigs.lock pins: rebuild it
and run quarry again, with no quarry plugin lock in between. It is hashed at
every launch and runs sandboxed like any plugin; sigs.lock is not touched.
Every command that launches it says so (a WARN naming the binary), and a
build with it is never published: quarry build refuses unless --no-publish,
and quarry publish refuses such a build. With no arguments it lists the
overrides; --clear NAME... (or --clear alone, for all) removes them.

A plugin started by hand with --debug (for a debugger: dlv exec
quarry-sig-NAME -- --debug) prints a line exporting ` + sdkhost.ReattachEnv + `;
with it set, quarry connects to that process instead of launching the SIG's
binary. It runs outside the sandbox, as whoever started it, and is marked
and refused for publishing as an override is.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "clear", Usage: "remove the overrides of the SIGs named (all, if none)"},
		},
		Action: func(c *cli.Context) error {
			e, err := setup(c)
			if err != nil {
				return err
			}
			path := e.lay.DevOverrides()
			dev, err := plugins.LoadDev(path)
			if err != nil {
				return err
			}
			args := c.Args().Slice()
			switch {
			case c.Bool("clear"):
				if len(args) == 0 {
					dev = plugins.DevOverrides{}
				}
				for _, name := range args {
					if _, ok := dev[name]; !ok {
						return cli.Exit(fmt.Sprintf("quarry: sig %s has no dev override", name), 1)
					}
					delete(dev, name)
				}
				return dev.Save(path)
			case len(args) == 2:
				name, bin := args[0], args[1]
				if !slices.ContainsFunc(e.cfg.SIGs, func(g config.SIG) bool { return g.Name == name }) {
					return cli.Exit(fmt.Sprintf("quarry: %s lists no sig %s", e.cfg.File, name), 1)
				}
				abs, err := filepath.Abs(bin)
				if err != nil {
					return err
				}
				st, err := os.Stat(abs)
				if err != nil {
					return cli.Exit("quarry: "+err.Error(), 1)
				}
				if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
					return cli.Exit(fmt.Sprintf("quarry: %s is not an executable file", abs), 1)
				}
				dev[name] = abs
				if err := dev.Save(path); err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "quarry: sig %s now runs %s, not the locked binary, in %s; builds with it are not published (quarry plugin dev --clear %s undoes it)\n", name, abs, e.state, name)
				return nil
			case len(args) != 0:
				return cli.Exit("quarry: plugin dev [NAME PATH] [--clear [NAME...]]", 2)
			}
			_, reattach, err := e.devPlugins()
			if err != nil {
				return err
			}
			for _, name := range slices.Sorted(maps.Keys(dev)) {
				printDev(e.json, name, "override", dev[name])
			}
			for _, name := range slices.Sorted(maps.Keys(reattach)) {
				rc := reattach[name]
				printDev(e.json, name, "debug", fmt.Sprintf("pid %d at %s", rc.Pid, rc.Addr))
			}
			return nil
		},
	}
}

func printDev(asJSON bool, sig, kind, what string) {
	if asJSON {
		json.NewEncoder(os.Stdout).Encode(map[string]string{"sig": sig, "kind": kind, "runs": what})
		return
	}
	fmt.Printf("%-12s %-9s %s\n", sig, kind, what)
}

// devPlugins are the dev overrides of this state and the plugins in
// debug mode the environment points at.
func (e *env) devPlugins() (plugins.DevOverrides, map[string]*goplugin.ReattachConfig, error) {
	dev, err := plugins.LoadDev(e.lay.DevOverrides())
	if err != nil {
		return nil, nil, err
	}
	var reattach map[string]*goplugin.ReattachConfig
	if v := strings.TrimSpace(os.Getenv(sdkhost.ReattachEnv)); v != "" {
		if reattach, err = sdkhost.ParseReattach(v); err != nil {
			return nil, nil, cli.Exit("quarry: "+err.Error(), 2)
		}
	}
	return dev, reattach, nil
}

// devActive names the configured SIGs that would not run their locked
// plugin: a publishing command refuses before it starts.
func (e *env) devActive() ([]string, error) {
	dev, reattach, err := e.devPlugins()
	if err != nil {
		return nil, err
	}
	h := &plugins.Host{Dev: dev, Reattach: reattach}
	var out []string
	for _, g := range e.cfg.SIGs {
		if what := h.Unlocked(g.Name); what != "" {
			out = append(out, fmt.Sprintf("sig %s runs %s", g.Name, what))
		}
	}
	return out, nil
}
