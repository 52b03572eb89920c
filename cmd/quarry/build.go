package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/sandbox"
)

func buildCommand() *cli.Command {
	return &cli.Command{
		Name:  "build",
		Usage: "the whole pipeline: import, build every package for every arch, compose, sign, publish",
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

func (e *env) cache() *build.Cache {
	return &build.Cache{Dir: filepath.Join(e.state, "build"), Store: e.store}
}

// weights estimates each job's duration from its last build.
func (e *env) weights() func(string) float64 {
	c := e.cache()
	return func(id string) float64 {
		if rec, ok := c.Latest(id); ok {
			return rec.Duration().Seconds()
		}
		return 0
	}
}

func runBuild(c *cli.Context) error {
	e, err := setup(c)
	if err != nil {
		return err
	}
	unlock, err := lockState(filepath.Join(e.state, "build"))
	if err != nil {
		return err
	}
	defer unlock()
	if !c.Bool("no-import") {
		if err := importAll(c, e); err != nil {
			return err
		}
	}
	// Folders of jobs a killed run left behind are redone from scratch,
	// and the sandboxes it left mounted are taken down.
	if err := os.RemoveAll(filepath.Join(e.state, "build", "work")); err != nil {
		return err
	}
	if err := sandbox.SweepSlots(); err != nil {
		return err
	}
	pl, err := e.makePlan(c)
	if err != nil {
		return err
	}
	p := pl.Plan
	prog := newBuildProgress(p, e.json)
	b := &build.Builder{Plan: p, Envs: pl.Envs, EnvErrors: pl.EnvErrors, Cache: e.cache(),
		Exec:     e.checked(&build.Local{Store: e.store, Work: filepath.Join(e.state, "build", "work"), Keep: c.Bool("keep-failed"), Limits: e.buildLimits(), Roots: pl.Roots}, pl),
		Jobs:     c.Int("jobs"),
		FailFast: c.Bool("fail-fast"),
		Events:   prog.event,
	}
	res, err := b.Run(c.Context)
	prog.finish()
	if err != nil {
		return err
	}
	// Packages that build for no arch, or whose SRPM could not be made, have
	// no jobs; they fail the build too. A SIG's failures fail that SIG only.
	var early []string
	sigOf := pl.sigOf()
	for _, pr := range p.Problems {
		if pr.Arch != "" {
			continue
		}
		if sig := sigOf[pr.Package]; sig != "" {
			pl.failSIG(sig, fmt.Errorf("sig %s: %s", sig, pr))
			continue
		}
		early = append(early, pr.String())
	}
	printBuild(p, res, e.json)
	for _, msg := range early {
		fmt.Fprintln(os.Stderr, "quarry:", msg)
	}
	coreFailed := 0
	for id, err := range res.Errors {
		if sig := sigOf[p.Job(id).Package]; sig != "" {
			pl.failSIG(sig, fmt.Errorf("sig %s: %w", sig, err))
		} else {
			coreFailed++
		}
	}
	if err := res.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "quarry:", err)
	}
	refused, err := e.gateBuilt(pl, res)
	if err != nil {
		return err
	}
	if len(refused) > 0 {
		fmt.Fprintln(os.Stderr, "quarry:", refused)
	}
	if coreFailed > 0 || len(early) > 0 || len(refused) > 0 {
		return cli.Exit(fmt.Sprintf("quarry: %d core jobs failed or were skipped, %d core packages cannot build, %d core RPMs refused; nothing published", coreFailed, len(early), len(refused)), 1)
	}
	if c.Bool("check-reproducible") {
		if err := checkReproducible(c, e, p, res, pl.Roots); err != nil {
			return err
		}
	}
	if c.Bool("no-publish") {
		if err := e.commitLock(); err != nil {
			return err
		}
		// (A publish prints the SIGs' failures with what it kept of them.)
		for _, name := range slices.Sorted(maps.Keys(pl.SIGErrors)) {
			fmt.Fprintln(os.Stderr, "quarry:", pl.SIGErrors[name])
		}
		if len(pl.SIGErrors) > 0 {
			return cli.Exit(fmt.Sprintf("quarry: %d SIGs failed", len(pl.SIGErrors)), 1)
		}
		return nil
	}
	key, err := e.signingKey()
	if err != nil {
		return err
	}
	return e.composeAndPublish(c, pl, res, key)
}

func printBuild(p *plan.Plan, res *build.Result, asJSON bool) {
	ids := make([]string, 0, len(res.Status))
	for id := range res.Status {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		for _, id := range ids {
			ev := map[string]any{"event": "job", "job": id, "status": res.Status[id]}
			if rec := res.Records[id]; rec != nil {
				ev["key"], ev["outputs"] = rec.Key, rec.Outputs
			}
			if err := res.Errors[id]; err != nil {
				ev["error"] = err.Error()
			}
			enc.Encode(ev)
		}
		return
	}
	count := map[string]int{}
	for _, id := range ids {
		st := res.Status[id]
		count[st]++
		line := fmt.Sprintf("%-28s %-8s", id, st)
		if rec := res.Records[id]; rec != nil {
			var files []string
			for _, o := range rec.Outputs {
				files = append(files, o.File)
			}
			line += " " + strings.Join(files, " ")
		}
		fmt.Println(line)
	}
	fmt.Printf("%d jobs: %d built, %d cached, %d failed, %d skipped\n", len(ids), count[build.Built], count[build.Cached], count[build.Failed], count[build.Skipped])
}

func explain(e *env, pl *planned, pkg string) error {
	p := pl.Plan
	why := build.Explain(p, pl.Envs, pl.EnvErrors, e.cache())
	found := false
	for _, j := range p.Jobs {
		if j.Package == pkg {
			found = true
			fmt.Printf("%-28s %s\n", j.ID, why[j.ID])
		}
	}
	for _, pr := range p.Problems {
		if pr.Package == pkg && pr.Arch == "" {
			found = true
			fmt.Printf("%-28s cannot build: %s\n", pkg, pr.Reason)
		}
	}
	if !found {
		return cli.Exit(fmt.Sprintf("quarry: %s is not a package of %s", pkg, e.cfg.File), 1)
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
		return nil, fmt.Errorf("another quarry build is running over %s", filepath.Dir(dir))
	}
	return func() { f.Close() }, nil
}
