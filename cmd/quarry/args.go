package main

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// flagsFirst moves every flag of a command line before its arguments, so
// that flags work where people put them (quarry build greet --no-import,
// quarry plugin check BIN --junit FILE): urfave/cli stops reading flags
// at a command's first argument. The app's global flags given after the
// command move before it. "--" ends the flags, as usual.
func flagsFirst(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	global := []string{args[0]}
	i := 1
	// The global flags before the command.
	for i < len(args) && isFlag(args[i]) {
		n := takes(app.Flags, args[i])
		global = append(global, args[i:min(i+n, len(args))]...)
		i += n
	}
	if i >= len(args) {
		return args
	}
	// The command and its subcommands.
	path := []string{}
	cmds := app.Commands
	var leaf *cli.Command
	for i < len(args) {
		c := find(cmds, args[i])
		if c == nil {
			break
		}
		leaf, cmds = c, c.Subcommands
		path = append(path, args[i])
		i++
	}
	if leaf == nil {
		return args
	}
	var flags, positional []string
	for i < len(args) {
		a := args[i]
		switch {
		case a == "--":
			positional = append(positional, args[i:]...)
			i = len(args)
		case a == "-h" || a == "--help":
			flags = append(flags, a)
			i++
		case isFlag(a) && known(leaf.Flags, a):
			n := takes(leaf.Flags, a)
			flags = append(flags, args[i:min(i+n, len(args))]...)
			i += n
		case isFlag(a) && known(app.Flags, a):
			n := takes(app.Flags, a)
			global = append(global, args[i:min(i+n, len(args))]...)
			i += n
		default:
			positional = append(positional, a)
			i++
		}
	}
	// An unknown flag stays among the arguments, where the command reads
	// it (and names it) itself.
	out := append(global, path...)
	out = append(out, flags...)
	return append(out, positional...)
}

func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' }

func flagName(a string) (string, bool) {
	name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
	return name, hasValue
}

func lookup(flags []cli.Flag, a string) cli.Flag {
	name, _ := flagName(a)
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	return nil
}

func known(flags []cli.Flag, a string) bool { return lookup(flags, a) != nil }

// takes is how many words a flag is: 2 for "--out DIR", 1 for a boolean
// or "--out=DIR" (or a flag the command does not have).
func takes(flags []cli.Flag, a string) int {
	f := lookup(flags, a)
	if _, hasValue := flagName(a); hasValue || f == nil {
		return 1
	}
	if _, ok := f.(*cli.BoolFlag); ok {
		return 1
	}
	return 2
}

func find(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
