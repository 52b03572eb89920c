package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/sign"
)

// trustFlags say which keys a command that checks a publication trusts:
// --key and --fingerprint, or else the rpm keyring under --root.
func trustFlags(rootUsage string) []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "key", Usage: "trust the public key(s) in `FILE` (repeatable)"},
		&cli.StringSliceFlag{Name: "fingerprint", Usage: "trust the key with fingerprint `FPR` (repeatable); its key material may come from the publication's keys/"},
		&cli.StringFlag{Name: "root", Value: "/", Usage: rootUsage},
	}
}

// userTrust is the trust the flags give: the --key files and the
// --fingerprint pins, or, with neither, what rpm under root trusts.
func userTrust(keys, pins []string, root string) (*sign.Trust, error) {
	t := &sign.Trust{}
	for _, k := range keys {
		if err := t.AddFile(k); err != nil {
			return nil, cli.Exit("quarry: --key: "+err.Error(), 2)
		}
	}
	for _, p := range pins {
		if err := t.Pin(p); err != nil {
			return nil, cli.Exit("quarry: --fingerprint: "+err.Error(), 2)
		}
	}
	if len(keys) == 0 && len(pins) == 0 {
		if err := t.AddRPMKeyring(root); err != nil {
			return nil, cli.Exit("quarry: "+err.Error()+" (or give --key FILE)", 2)
		}
	}
	return t, nil
}

// noTrust explains sign.ErrNoTrustedKey: how to give a key.
func noTrust(what string, err error, keys, pins []string, root string) error {
	if !errors.Is(err, sign.ErrNoTrustedKey) {
		return err
	}
	msg := fmt.Sprintf("quarry: %s: %v", what, err)
	if len(keys) == 0 && len(pins) == 0 {
		msg += fmt.Sprintf(": the rpm keyring of %s holds no key", root)
	}
	return cli.Exit(msg+"; give the publisher's public key with --key FILE (the publisher's is <state>/keys/RPM-GPG-KEY-<distro>, written by quarry key init), "+
		"or its fingerprint with --fingerprint FPR, or import it into rpm's keyring (rpmkeys --import FILE)", 2)
}

// trailing reads a command's positional arguments and the flags among
// or after them (quarry verify out/current --key K): urfave/cli stops
// reading flags at the first argument. Flags in multi collect every
// value (with those read before the arguments); the others take the last.
func trailing(c *cli.Context, single, multi []string) (args []string, one map[string]string, many map[string][]string, err error) {
	one, many = map[string]string{}, map[string][]string{}
	for _, n := range single {
		one[n] = c.String(n)
	}
	for _, n := range multi {
		many[n] = c.StringSlice(n)
	}
	in := c.Args().Slice()
	for i := 0; i < len(in); i++ {
		arg := in[i]
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			args = append(args, arg)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		_, isOne := one[name]
		_, isMany := many[name]
		if !isOne && !isMany {
			return nil, nil, nil, cli.Exit(fmt.Sprintf("quarry: unknown flag %s", arg), 2)
		}
		if !hasValue {
			if i+1 >= len(in) {
				return nil, nil, nil, cli.Exit(fmt.Sprintf("quarry: %s needs a value", arg), 2)
			}
			i++
			value = in[i]
		}
		if isOne {
			one[name] = value
		} else {
			many[name] = append(many[name], value)
		}
	}
	return args, one, many, nil
}
