package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// bashCompletion asks quarry itself for the words that can come next
// (urfave/cli answers --generate-bash-completion with the commands,
// subcommands or flags of the command line so far).
const bashCompletion = `# quarry's bash completion: eval "$(quarry completion bash)"
_quarry() {
  local cur=${COMP_WORDS[COMP_CWORD]}
  local words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  local ask="--generate-bash-completion"
  [[ $cur == -* ]] && ask="$cur $ask"
  COMPREPLY=($(compgen -W "$("${words[@]}" $ask 2>/dev/null)" -- "$cur"))
}
complete -o bashdefault -o default -F _quarry quarry
`

const zshCompletion = `#compdef quarry
# quarry's zsh completion: eval "$(quarry completion zsh)"
_quarry() {
  local -a opts
  local ask=--generate-bash-completion
  [[ ${words[CURRENT]} == -* ]] && ask="${words[CURRENT]} $ask"
  opts=("${(@f)$(${words[@]:0:CURRENT-1} ${=ask} 2>/dev/null)}")
  _describe 'values' opts
}
compdef _quarry quarry
`

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: `Prints a script that completes quarry's commands, subcommands and flags:
  eval "$(quarry completion bash)"       (or put it in ~/.bashrc)
  eval "$(quarry completion zsh)"
  quarry completion fish | source`,
		Action: func(c *cli.Context) error {
			switch c.Args().First() {
			case "bash":
				fmt.Print(bashCompletion)
			case "zsh":
				fmt.Print(zshCompletion)
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				fmt.Print(s)
			default:
				return cli.Exit(fmt.Sprintf("quarry: completion: which shell? bash, zsh or fish (not %q)", c.Args().First()), 2)
			}
			return nil
		},
	}
}

func manCommand() *cli.Command {
	return &cli.Command{
		Name:  "man",
		Usage: "print quarry's man page (roff): quarry man | man -l -",
		Description: `Generated from the commands' own help, so it never falls behind them.
make man writes it to bin/quarry.1.`,
		Action: func(c *cli.Context) error {
			s, err := c.App.ToManWithSection(1)
			if err != nil {
				return err
			}
			fmt.Print(s)
			return nil
		},
	}
}
