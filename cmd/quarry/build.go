package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/pipeline"
)

func buildCommand() *cli.Command {
	return &cli.Command{
		Name:      "build",
		Usage:     "the whole pipeline: import, build every package for every arch, compose, sign, publish",
		ArgsUsage: "[PKG]...",
		Description: `Imports and debrands what changed upstream (see quarry import; --no-import
skips it), plans the build (see quarry plan), then runs one job per (package, arch)
inside that arch's buildroot (see quarry buildroot): a fresh root from the
pinned image, in a bubblewrap sandbox with no network and nothing of the host
in it, where the root's rpm installs the BuildRequires that come from the batch
(the packages just built for that arch), and the root's own rpmbuild --rebuild
runs as an unprivileged user. Foreign arches run under qemu-user (binfmt_misc),
so a spec's gcc is that arch's compiler; every ELF file in every output RPM is
checked against the job's arch. (build.toolchain: cross builds with the host's
cross compilers instead.)

A job whose inputs (SRPM, arch, BuildRequires, buildroot image, macros) were built
before is not run again; a killed build resumes where it stopped. A failing
job prints the end of its log; what needs it is skipped, the rest goes on.

When every job has built, the outputs are signed, composed into repositories
and published atomically into --out (see quarry publish); --no-publish stops
after the build. A failed build publishes nothing.

With PKG..., builds only those packages' jobs (and what they need, from the
cache when built before) and publishes nothing; a name that is not a package
of the distribution is an error.

A run whose build holds nothing new (every job cached, the same SIGs, config,
lock and key as the current compose) publishes nothing and says so.

--check-reproducible then rebuilds every job once more (cache or not) and
compares each RPM byte for byte with the first build, naming the header
tags and whether the payload differ; anything short of 100 % fails the
command and publishes nothing.`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "jobs run at once (default: the number of cores)"},
			&cli.BoolFlag{Name: "fail-fast", Usage: "stop at the first failing job"},
			&cli.BoolFlag{Name: "keep-failed", Usage: "keep failed jobs' folders under <state>/build/work"},
			&cli.BoolFlag{Name: "no-import", Usage: "build what is imported; do not look upstream first"},
			&cli.BoolFlag{Name: "no-publish", Usage: "stop after the build"},
			&cli.BoolFlag{Name: "check-reproducible", Usage: "rebuild every job from the same inputs and compare the RPMs byte for byte; publish only if all match"},
			outFlag(),
		},
		Action: runBuild,
	}
}

func runBuild(c *cli.Context) error {
	e, err := setup(c)
	if err != nil {
		return err
	}
	unlock, err := lockState(e.lay.BuildDir())
	if err != nil {
		return err
	}
	defer unlock()
	only := c.Args().Slice()
	if !c.Bool("no-publish") && len(only) == 0 {
		dev, err := e.devActive()
		if err != nil {
			return err
		}
		if len(dev) > 0 {
			return cli.Exit("quarry: "+strings.Join(dev, "; ")+": a build that publishes runs locked plugins only (a publication is a release); build with --no-publish to try it, or quarry plugin dev --clear and quarry plugin lock", 1)
		}
	}
	rep := e.reporter()
	p := e.pipeline(rep)
	if p.History, err = e.openHistory(); err != nil {
		return err
	}
	defer p.History.Close()
	o := pipeline.RunOptions{
		Command: "build",
		Args:    os.Args[1:],
		Import:  !c.Bool("no-import"),
		Plan:    pipeline.PlanOptions{Jobs: c.Int("jobs")},
		Build:   pipeline.BuildOptions{Jobs: c.Int("jobs"), FailFast: c.Bool("fail-fast"), KeepFailed: c.Bool("keep-failed"), Only: only},
		Publish: !c.Bool("no-publish") && len(only) == 0,
	}
	printed := false
	o.AfterBuild = func(ctx context.Context, pl *pipeline.Planned, b *pipeline.Built) error {
		rep.finish()
		printBuild(b, e.json)
		printed = true
		if c.Bool("check-reproducible") {
			return checkReproducible(c, e, pl, b)
		}
		return nil
	}
	res, err := p.Run(c.Context, o)
	rep.finish()
	if res.Built != nil && !printed {
		printBuild(res.Built, e.json)
	}
	var be *pipeline.BuildError
	if errors.As(err, &be) {
		for _, msg := range be.CannotBuild {
			fmt.Fprintln(os.Stderr, "quarry:", msg)
		}
		for _, msg := range be.Failed {
			fmt.Fprintln(os.Stderr, "quarry:", msg)
		}
		for _, msg := range be.Refused {
			fmt.Fprintln(os.Stderr, "quarry:", msg)
		}
		return be
	}
	if res.Published != nil {
		printPublished(res.Published, e.json)
	}
	if len(only) > 0 && err == nil && !c.Bool("no-publish") {
		fmt.Fprintf(os.Stderr, "quarry: built %s only; nothing published (quarry build without packages publishes)\n", strings.Join(only, " "))
	}
	return sigsFailed(err)
}

// sigsFailed prints each SIG's failure and returns the exit error; other
// errors pass.
func sigsFailed(err error) error {
	var se *pipeline.SIGsError
	if !errors.As(err, &se) {
		return err
	}
	for _, msg := range se.Errors {
		fmt.Fprintln(os.Stderr, "quarry:", msg)
	}
	return se
}

func printBuild(b *pipeline.Built, asJSON bool) {
	jobs := slices.Clone(b.Jobs)
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].ID < jobs[j].ID })
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		for _, j := range jobs {
			ev := pipeline.Event{Time: time.Now().UTC(), Kind: pipeline.EventResult, Phase: pipeline.PhaseBuild, Job: j.ID, Package: j.Package, Arch: j.Arch, SIG: j.SIG, Status: j.Status, Error: j.Error}
			if rec := b.Records[j.ID]; rec != nil {
				ev.Key, ev.Log, ev.Outputs = rec.Key, rec.Log, rec.Outputs
			}
			enc.Encode(ev)
		}
		return
	}
	count := map[string]int{}
	for _, j := range jobs {
		count[j.Status]++
		line := fmt.Sprintf("%-28s %-8s", j.ID, j.Status)
		if rec := b.Records[j.ID]; rec != nil {
			var files []string
			for _, o := range rec.Outputs {
				files = append(files, o.File)
			}
			line += " " + strings.Join(files, " ")
		}
		fmt.Println(line)
	}
	fmt.Printf("%d jobs: %d built, %d cached, %d failed, %d skipped\n", len(jobs), count[build.Built], count[build.Cached], count[build.Failed], count[build.Skipped])
}

func explain(e *env, p *pipeline.Pipeline, pl *pipeline.Planned, pkg string) error {
	why, cannot, found := p.Explain(pl, pkg)
	if !found {
		return cli.Exit(fmt.Sprintf("quarry: %s is not a package of %s", pkg, e.cfg.File), 1)
	}
	for _, j := range pl.Jobs {
		if j.Package == pkg {
			fmt.Printf("%-28s %s\n", j.ID, why[j.ID])
		}
	}
	for _, r := range cannot {
		fmt.Printf("%-28s cannot build: %s\n", pkg, r)
	}
	return nil
}

// lockState takes the build folder for this process: two builds over one
// state would clean each other's work folders.
func lockState(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, &busyError{filepath.Dir(dir)}
	}
	return func() { f.Close() }, nil
}
