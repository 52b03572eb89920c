package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/pipeline"
	"github.com/quarrylinux/quarry/core/plan"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "show the build graph: packages, arches, order and the critical path",
		Description: `Makes each imported package's SRPM (once; they are cached), reads which
arches it builds for (the distribution's arches ∩ ExclusiveArch − ExcludeArch,
or one noarch build) and matches its BuildRequires against what the batch's
binary packages provide, or the build host. Prints the jobs in the order
they can run, and what cannot build: a BuildRequires nothing provides, a
dependency cycle, a package that builds for no arch. Exits non-zero when
anything cannot build.

With --why PKG, says for each of PKG's jobs whether quarry build will run it
and why (a changed SRPM, toolchain or buildroot), or reuse its cached output.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "why", Usage: "explain whether and why `PKG`'s jobs will run"},
			outFlag(),
		},
		Action: runPlan,
	}
}

func runPlan(c *cli.Context) error {
	e, err := setup(c)
	if err != nil {
		return err
	}
	lk, err := e.loadLock()
	if err != nil {
		return err
	}
	p := e.pipeline(nil)
	pl, err := p.Plan(c.Context, lk, pipeline.PlanOptions{Jobs: c.Int("jobs")})
	if err != nil {
		return err
	}
	if pkg := c.String("why"); pkg != "" {
		return explain(e, p, pl, pkg)
	}
	if e.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		out := struct {
			*plan.Plan
			SIGErrors map[string]string `json:"sig_errors,omitempty"`
		}{Plan: pl.Plan, SIGErrors: map[string]string{}}
		for name, err := range pl.SIGErrors {
			out.SIGErrors[name] = err.Error()
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		printPlan(pl.Plan)
	}
	// A SIG that is misspelled, refused or broken fails the plan too: the
	// build would leave it out.
	for _, err := range pl.SIGErrorList() {
		fmt.Fprintln(os.Stderr, "quarry:", err)
	}
	if n, m := len(pl.Problems), len(pl.SIGErrors); n > 0 || m > 0 {
		return cli.Exit(fmt.Sprintf("quarry: %d packages or jobs cannot build, %d SIGs failed (see above)", n, m), 1)
	}
	return nil
}

func printPlan(p *plan.Plan) {
	fmt.Printf("%d packages, %d jobs, arches %s (+ noarch)\n\n", len(p.Packages), len(p.Jobs), strings.Join(p.Arches, " "))
	for _, pkg := range p.Packages {
		fmt.Printf("  %-20s %-28s %s\n", pkg.Name, pkg.NVR, strings.Join(pkg.Arches, " "))
	}
	fmt.Printf("\njobs, in order (rank: the longest chain of estimated seconds from the job to the end)\n")
	for i, j := range p.Jobs {
		needs := "-"
		if len(j.Needs) > 0 {
			needs = strings.Join(j.Needs, " ")
		}
		status := ""
		if b := p.Blocked[j.ID]; b != nil {
			status = "  BLOCKED: " + b.Reason
		}
		fmt.Printf("  %3d. %-26s rank %-6.1f needs %s%s\n", i+1, j.ID, j.Rank, needs, status)
	}
	total := 0.0
	for _, id := range p.CriticalPath {
		total += p.Job(id).Weight
	}
	fmt.Printf("\ncritical path (%d jobs, ~%.1fs): %s\n", len(p.CriticalPath), total, strings.Join(p.CriticalPath, " → "))
	if len(p.Problems) > 0 {
		fmt.Printf("\ncannot build:\n")
		for _, pr := range p.Problems {
			fmt.Printf("  %s\n", pr)
		}
	}
}
