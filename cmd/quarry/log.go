package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/history"
)

func logCommand() *cli.Command {
	return &cli.Command{
		Name:      "log",
		Usage:     "print a job's build log: of its latest run, or of --run ID; --follow while it runs",
		ArgsUsage: "PKG/ARCH",
		Description: `Prints the whole log of job PKG/ARCH (e.g. greet/x86_64) as the run history
recorded it: the log of a job that built, or failed, is kept in the store.
Without --run, the newest run in which the job ran. A job still running prints
what it wrote so far; with --follow, the rest as it comes, until it ends.`,
		Flags: []cli.Flag{
			&cli.Int64Flag{Name: "run", Usage: "the run `ID` (quarry runs lists them)"},
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing a running job's log until it ends"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("quarry: log needs one job, PKG/ARCH (e.g. greet/x86_64)", exitUsage)
			}
			id := c.Args().First()
			if !strings.Contains(id, "/") {
				return cli.Exit(fmt.Sprintf("quarry: log: %q is not a job: give PKG/ARCH (e.g. %s/x86_64)", id, id), exitUsage)
			}
			e, err := setup(c)
			if err != nil {
				return err
			}
			db, err := e.readHistory()
			if err != nil {
				return err
			}
			defer db.Close()
			j, err := findJob(db, id, c.Int64("run"))
			if err != nil {
				return err
			}
			return printLog(c, e, db, j, c.Bool("follow"))
		},
	}
}

// findJob is the job in run, or in the newest run where it ran.
func findJob(db *history.DB, id string, run int64) (history.Job, error) {
	if run > 0 {
		j, err := db.Job(run, id)
		if errors.Is(err, history.ErrNotFound) {
			return j, cli.Exit(fmt.Sprintf("quarry: run %d has no job %s", run, id), exitFailed)
		}
		return j, err
	}
	jobs, err := db.JobRuns(id, 50)
	if err != nil {
		return history.Job{}, err
	}
	for _, j := range jobs {
		if j.Log != "" || j.Status == build.Running {
			return j, nil
		}
	}
	if len(jobs) > 0 {
		return history.Job{}, cli.Exit(fmt.Sprintf("quarry: %s has no log: it has not run in the last %d runs (it was %s in run %d)", id, len(jobs), jobs[0].Status, jobs[0].Run), exitFailed)
	}
	return history.Job{}, cli.Exit(fmt.Sprintf("quarry: no run has a job %s", id), exitFailed)
}

func printLog(c *cli.Context, e *env, db *history.DB, j history.Job, follow bool) error {
	if j.Log != "" {
		data, err := e.store.Get(j.Log)
		if err != nil {
			return fmt.Errorf("the log of %s (run %d): %w", j.ID, j.Run, err)
		}
		_, err = os.Stdout.Write(data)
		return err
	}
	if j.Status != build.Running {
		return cli.Exit(fmt.Sprintf("quarry: %s has no log in run %d: it was %s", j.ID, j.Run, j.Status), exitFailed)
	}
	// Running: its live file, then (following) what it adds, until the
	// job ends; then the rest from the store.
	path := e.lay.LiveLog(j.Run, j.ID)
	var off int64
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		n, _ := copyFrom(path, off)
		off += n
		if !follow {
			return nil
		}
		now, err := db.Job(j.Run, j.ID)
		if err != nil {
			return err
		}
		if now.Status != build.Running {
			if now.Log != "" {
				if data, err := e.store.Get(now.Log); err == nil && int64(len(data)) > off {
					os.Stdout.Write(data[off:])
				}
			}
			return nil
		}
		select {
		case <-c.Context.Done():
			return nil
		case <-tick.C:
		}
	}
}

// copyFrom writes a live log past off to stdout, never through a link.
func copyFrom(path string, off int64) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return 0, fmt.Errorf("%s: not a regular file", path)
	}
	return io.Copy(os.Stdout, io.NewSectionReader(f, off, 1<<62))
}
