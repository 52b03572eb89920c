package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/layout"
	"github.com/quarrylinux/quarry/core/optin"
)

func sigCommand() *cli.Command {
	flags := append([]cli.Flag{&cli.StringFlag{Name: "from", Usage: "the publication `URL|DIR` the repositories point at (default: publish.url in quarry.yaml, or <out>/current)"}},
		trustFlags("the machine's root `DIR` (an image, or a test's installroot); without --key or --fingerprint, its rpm keyring is what is trusted")...)
	return &cli.Command{
		Name:  "sig",
		Usage: "SIG repositories on this machine: list, info, enable, disable; and new, a SIG's own repository",
		Description: `A publication carries its SIGs' index (sigs.json). enable writes
/etc/yum.repos.d/<distro>-sig-<sig>.repo and /etc/pki/rpm-gpg/RPM-GPG-KEY-<distro>-sig-<sig>,
the same files as the SIG's <distro>-release-<sig> package; disable removes
them. Nothing else on the machine changes.

sigs.json is checked against its signature (sigs.json.asc) by a key the
machine trusts: its rpm keyring (under --root), or --key FILE, or a
--fingerprint FPR pin; and the SIG key enable writes must have the digest
the signed index gives it. Anything else is refused, and nothing is written.`,
		Subcommands: []*cli.Command{
			sigNewCommand(),
			{
				Name:  "list",
				Usage: "the SIGs published, their repositories, and whether each is enabled here",
				Flags: flags,
				Action: withSIGIndex(func(c *cli.Context, a sigArgs, x *optin.Index, src string) error {
					if len(x.SIGs) == 0 {
						fmt.Printf("%s publishes no SIGs\n", src)
						return nil
					}
					for _, s := range x.SIGs {
						states, err := repoStates(a.root, x, &s)
						if err != nil {
							return err
						}
						state := sigState(states, len(s.Repos))
						if jsonOut(c) {
							json.NewEncoder(os.Stdout).Encode(map[string]any{"sig": s.Name, "version": s.Version, "state": state, "enabled": state != "disabled",
								"repos": s.Repos, "repo_states": states, "description": s.Description})
							continue
						}
						var ids []string
						for _, r := range s.Repos {
							ids = append(ids, r.ID+":"+onOff(states[r.ID]))
						}
						fmt.Printf("%-10s %-8s %-9s repos: %-24s %s\n", s.Name, s.Version, state, strings.Join(ids, " "), s.Description)
					}
					return nil
				}),
			},
			{
				Name:      "info",
				Usage:     "one SIG: its repositories, key and state here",
				ArgsUsage: "NAME",
				Flags:     flags,
				Action: withSIGIndex(func(c *cli.Context, a sigArgs, x *optin.Index, _ string) error {
					s, err := x.Find(first(a.args))
					if err != nil {
						return cli.Exit("quarry: "+err.Error(), 1)
					}
					repoFile, keyFile := optin.Paths(a.root, x.Distribution, s.Name, s.Key)
					fmt.Printf("SIG %s %s: %s\n", s.Name, s.Version, s.Description)
					for _, r := range s.Repos {
						fmt.Printf("  %s-sig-%s-%s  %s: %s\n", x.Distribution, s.Name, r.ID, r.Name, r.Description)
					}
					states, err := repoStates(a.root, x, s)
					if err != nil {
						return err
					}
					fmt.Printf("key: %s\nhere: %s (%s)\n", keyFile, sigState(states, len(s.Repos)), repoFile)
					fmt.Printf("or: dnf install %s-release-%s\n", x.Distribution, s.Name)
					return nil
				}),
			},
			{
				Name:      "enable",
				Usage:     "write the SIG's .repo file (all its repositories, or REPO only) and key",
				ArgsUsage: "NAME [REPO]",
				Flags:     flags,
				Action: withSIGIndex(func(c *cli.Context, a sigArgs, x *optin.Index, src string) error {
					if len(a.args) < 1 || len(a.args) > 2 {
						return cli.Exit("quarry: sig enable NAME [REPO]", 2)
					}
					repo := ""
					if len(a.args) == 2 {
						repo = a.args[1]
					}
					res, err := optin.Enable(a.root, x, a.args[0], repo, src, optin.RPMOwner)
					if err != nil {
						return cli.Exit("quarry: "+err.Error(), 1)
					}
					if res.Owner != "" {
						fmt.Printf("enabled SIG %s in place: %s belongs to %s\n", a.args[0], res.RepoFile, res.Owner)
						return nil
					}
					fmt.Printf("enabled SIG %s: %s\n", a.args[0], res.RepoFile)
					return nil
				}),
			},
			{
				Name:      "disable",
				Usage:     "remove the SIG's .repo file and key",
				ArgsUsage: "NAME",
				Flags:     flags,
				Action: withSIGIndex(func(c *cli.Context, a sigArgs, x *optin.Index, _ string) error {
					name := first(a.args)
					key := "RPM-GPG-KEY-" + x.Distribution + "-sig-" + name
					if s, err := x.Find(name); err == nil {
						key = s.Key
					}
					res, err := optin.Disable(a.root, x.Distribution, name, key, optin.RPMOwner)
					if err != nil {
						return cli.Exit("quarry: "+err.Error(), 1)
					}
					if res.Owner != "" {
						fmt.Printf("disabled SIG %s's repositories in place: %s belongs to %s, which keeps it (and keeps it off through updates); dnf remove %s takes it away\n",
							name, res.RepoFile, res.Owner, res.Owner)
						return nil
					}
					fmt.Printf("disabled SIG %s\n", name)
					return nil
				}),
			},
		},
	}
}

func jsonOut(c *cli.Context) bool { return c.Bool("json") }

// withSIGIndex reads a sig subcommand's arguments and the publication's
// SIG index before running it.
func withSIGIndex(f func(c *cli.Context, a sigArgs, x *optin.Index, src string) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		a, err := parseSIGArgs(c)
		if err != nil {
			return err
		}
		x, src, err := sigIndex(c, a)
		if err != nil {
			return err
		}
		return f(c, a, x, src)
	}
}

// sigArgs are a sig subcommand's positional arguments and its flags,
// which may also follow the arguments (quarry sig enable kernel --root
// /mnt).
type sigArgs struct {
	args       []string
	from, root string
	keys, pins []string
}

func parseSIGArgs(c *cli.Context) (sigArgs, error) {
	args, one, many, err := trailing(c, []string{"from", "root"}, []string{"key", "fingerprint"})
	if err != nil {
		return sigArgs{}, err
	}
	return sigArgs{args: args, from: one["from"], root: one["root"], keys: many["key"], pins: many["fingerprint"]}, nil
}

// sigIndex loads the SIG index of --from, or of the config's publication,
// or of the one the machine's own <distro>.repo file (under --root) points
// at. These commands run on users' machines, which have no quarry.yaml.
func sigIndex(c *cli.Context, a sigArgs) (*optin.Index, string, error) {
	src := a.from
	distro := ""
	if src == "" {
		cfg, err := config.Load(c.String("config"))
		switch {
		case err == nil:
			src = cfg.Publish.URL
			if src == "" { // quarry build --out's default, as publishURL
				src, _ = filepath.Abs(filepath.Join("out", "current"))
			}
		case errors.Is(err, fs.ErrNotExist) && !c.IsSet("config"):
			var perr error
			if src, distro, perr = optin.Publication(a.root); perr != nil {
				return nil, "", cli.Exit(fmt.Sprintf("quarry: %s, and %v", c.String("config")+" does not exist", perr), 1)
			}
		default:
			return nil, "", fmt.Errorf("%w (or give --from)", err)
		}
	}
	trust, err := userTrust(a.keys, a.pins, a.root)
	if err != nil {
		return nil, "", err
	}
	x, _, err := optin.Load(src, trust)
	if err != nil {
		return nil, "", noTrust("sig", err, a.keys, a.pins, a.root)
	}
	if distro != "" && x.Distribution != distro {
		return nil, "", cli.Exit(fmt.Sprintf("quarry: %s is %s's publication, not %s's, which the machine's .repo file names", src, x.Distribution, distro), 1)
	}
	return x, src, nil
}

func first(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

// repoStates is each of the SIG's repositories' state under root, by id.
func repoStates(root string, x *optin.Index, s *optin.SIG) (map[string]bool, error) {
	states, err := optin.States(root, x.Distribution, s.Name)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, r := range s.Repos {
		id := layout.Names(x.Distribution).SIGRepoID(s.Name, r.ID)
		for _, st := range states {
			if st.ID == id {
				out[r.ID] = st.Enabled
			}
		}
	}
	return out, nil
}

// sigState is enabled (every repository on), disabled (none) or partly.
func sigState(states map[string]bool, repos int) string {
	on := 0
	for _, v := range states {
		if v {
			on++
		}
	}
	switch {
	case on == 0:
		return "disabled"
	case on == repos:
		return "enabled"
	}
	return "partly"
}

func onOff(v bool) string {
	if v {
		return "on"
	}
	return "off"
}
