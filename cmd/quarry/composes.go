package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

func composesCommand() *cli.Command {
	return &cli.Command{
		Name:  "composes",
		Usage: "the composes of the published tree: the current one, the one a rollback goes back to, and what each holds",
		Description: `Lists the composes under --out (the last publish.keep are kept), newest
first: which is current, which quarry publish --rollback would make current,
when each was made, and how many packages, SRPMs, repositories and installer
images it holds, with its SIGs. It reads each compose's manifest as data;
quarry verify is what checks a publication against its signatures.`,
		Flags: []cli.Flag{outFlag()},
		Action: func(c *cli.Context) error {
			e, err := setup(c)
			if err != nil {
				return err
			}
			list, err := e.pipeline(nil).Publisher().Composes()
			if err != nil {
				return err
			}
			if e.json {
				enc := json.NewEncoder(os.Stdout)
				for _, cp := range list {
					enc.Encode(cp)
				}
				return nil
			}
			if len(list) == 0 {
				fmt.Printf("nothing is published in %s\n", e.lay.Out)
				return nil
			}
			fmt.Printf("%-20s %-9s %-20s %8s %5s %6s %6s  %s\n", "COMPOSE", "STATE", "MADE (UTC)", "PACKAGES", "SRPMS", "REPOS", "IMAGES", "SIGS")
			for _, cp := range list {
				state := ""
				switch {
				case cp.Current:
					state = "current"
				case cp.Rollback:
					state = "rollback"
				}
				made := ""
				if !cp.Made.IsZero() {
					made = cp.Made.UTC().Format("2006-01-02 15:04:05")
				}
				if cp.Problem != "" {
					fmt.Printf("%-20s %-9s %-20s unreadable: %s\n", cp.ID, state, made, cp.Problem)
					continue
				}
				fmt.Printf("%-20s %-9s %-20s %8d %5d %6d %6d  %s\n", cp.ID, state, made, cp.Packages, cp.Sources, cp.Repos, cp.Images, strings.Join(cp.SIGs, " "))
			}
			return nil
		},
	}
}
