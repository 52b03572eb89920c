package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/history"
)

// openHistory opens the run history for a command that records a run.
func (e *env) openHistory() (*history.DB, error) {
	db, err := history.Open(e.lay.History())
	if err != nil {
		return nil, fmt.Errorf("run history: %w", err)
	}
	return db, nil
}

// readHistory opens it for a command that only reads it.
func (e *env) readHistory() (*history.DB, error) {
	return history.OpenReadOnly(e.lay.History())
}

func runsCommand() *cli.Command {
	return &cli.Command{
		Name:  "runs",
		Usage: "the history of runs: builds, publishes and rollbacks, newest first",
		Description: `Every quarry build, publish and rollback is recorded in <state>/history.db
(SQLite): who ran it and when, the config and lock it started from, each job's
status, times, log and outputs, the compose it published, how it ended and its
errors. A run whose process died reads as interrupted.`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "limit", Aliases: []string{"n"}, Value: 20, Usage: "show the newest `N` runs"},
			&cli.Int64Flag{Name: "before", Usage: "runs older than run `ID`"},
		},
		Action: func(c *cli.Context) error {
			e, err := setup(c)
			if err != nil {
				return err
			}
			db, err := e.readHistory()
			if err != nil {
				return err
			}
			defer db.Close()
			runs, err := db.Runs(c.Int("limit"), c.Int64("before"))
			if err != nil {
				return err
			}
			if e.json {
				enc := json.NewEncoder(os.Stdout)
				for _, r := range runs {
					enc.Encode(r)
				}
				return nil
			}
			fmt.Printf("%5s  %-11s %-9s %-19s %8s  %-34s %s\n", "RUN", "STATE", "COMMAND", "STARTED (UTC)", "TOOK", "JOBS", "COMPOSE")
			for _, r := range runs {
				fmt.Printf("%5d  %-11s %-9s %-19s %8s  %-34s %s\n", r.ID, r.State, r.Command, r.Started.UTC().Format("2006-01-02 15:04:05"), took(r.Started, r.Ended), jobCounts(r.Counts), r.Compose)
			}
			return nil
		},
	}
}

func took(start, end time.Time) string {
	if end.IsZero() {
		end = time.Now()
	}
	return end.Sub(start).Round(time.Second).String()
}

func jobCounts(c history.Counts) string {
	if c.Jobs == 0 {
		return "-"
	}
	s := fmt.Sprintf("%d: %d built, %d cached", c.Jobs, c.Built, c.Cached)
	if c.Failed+c.Skipped > 0 {
		s += fmt.Sprintf(", %d failed", c.Failed+c.Skipped)
	}
	if c.Running+c.Queued > 0 {
		s += fmt.Sprintf(", %d to go", c.Running+c.Queued)
	}
	return s
}

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "the current run, live: its phase, counts and running jobs (or the last run's result)",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep showing it until the run ends"},
		},
		Action: func(c *cli.Context) error {
			e, err := setup(c)
			if err != nil {
				return err
			}
			db, err := e.readHistory()
			if err != nil {
				return err
			}
			defer db.Close()
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			last := ""
			for {
				run, live, err := db.Current()
				if err != nil {
					return err
				}
				if !live {
					if run, err = db.Latest(); err != nil {
						return err
					}
				}
				running, err := db.Jobs(run.ID, history.Filter{Status: history.Running})
				if err != nil {
					return err
				}
				var names []string
				for _, j := range running {
					names = append(names, j.ID)
				}
				if e.json {
					json.NewEncoder(os.Stdout).Encode(map[string]any{"time": time.Now().UTC(), "event": "status", "run": run, "running": names})
				} else if line := statusLine(run, names); line != last {
					fmt.Println(line)
					last = line
				}
				if !c.Bool("follow") || run.State != history.StateRunning {
					return nil
				}
				select {
				case <-c.Context.Done():
					return nil
				case <-tick.C:
				}
			}
		},
	}
}

func statusLine(r history.Run, running []string) string {
	s := fmt.Sprintf("run %d (%s, %s): %s", r.ID, r.Command, took(r.Started, r.Ended), r.State)
	if r.State == history.StateRunning {
		s += ", phase " + r.Phase
	}
	s += "; jobs " + jobCounts(r.Counts)
	if len(running) > 0 {
		s += "; running " + strings.Join(running, " ")
	}
	if r.Compose != "" {
		s += "; published " + r.Compose
	}
	if n := len(r.Errors); n > 0 {
		s += fmt.Sprintf("; %d errors (quarry runs --json)", n)
	}
	return s
}
