package history

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// The readers' side. Readers never write: a running run whose process
// is gone reads as interrupted (its state, its end, its queued and running
// jobs), as Begin will record it. Times are in the local time zone.

const runCols = `id, command, args, user, host, pid, proc, started, ended, config_digest, lock_digest, state, phase, compose, errors, counts`

const jobCols = `j.run, j.id, j.package, j.arch, j.sig, j.status, j.started, j.ended, j.key, j.log, j.outputs, j.error, j.detail, j.seq`

type scanner interface{ Scan(...any) error }

// liveness is what tells whether a running run is still going.
type liveness struct {
	state, host, ident string
	pid                int
}

// dead tells a running run of this host whose process is gone.
func (d *DB) dead(l liveness) bool {
	return l.state == StateRunning && l.host == d.host && !alive(l.pid, l.ident)
}

func scanRun(s scanner) (Run, liveness, error) {
	var r Run
	var args, errs, ident string
	var started int64
	var ended sql.NullInt64
	var counts sql.NullString
	err := s.Scan(&r.ID, &r.Command, &args, &r.User, &r.Host, &r.PID, &ident, &started, &ended,
		&r.ConfigDigest, &r.LockDigest, &r.State, &r.Phase, &r.Compose, &errs, &counts)
	if err != nil {
		return Run{}, liveness{}, err
	}
	if counts.Valid {
		if err := json.Unmarshal([]byte(counts.String), &r.Counts); err != nil {
			return Run{}, liveness{}, fmt.Errorf("run %d: counts: %w", r.ID, err)
		}
		r.counted = true
	}
	r.Started = fromNanos(started)
	if ended.Valid {
		r.Ended = fromNanos(ended.Int64)
	}
	if r.Args, err = list(args); err != nil {
		return Run{}, liveness{}, fmt.Errorf("run %d: args: %w", r.ID, err)
	}
	if r.Errors, err = list(errs); err != nil {
		return Run{}, liveness{}, fmt.Errorf("run %d: errors: %w", r.ID, err)
	}
	return r, liveness{r.State, r.Host, ident, r.PID}, nil
}

// interrupted shows a dead running run as Begin will record it.
func (d *DB) interrupted(r *Run) error {
	r.State = StateInterrupted
	var end int64
	if err := d.db.QueryRow(lastSignSQL, r.ID).Scan(&end); err != nil {
		return d.wrap(fmt.Sprintf("run %d", r.ID), err)
	}
	r.Ended = fromNanos(end)
	r.Counts.Interrupted += r.Counts.Queued + r.Counts.Running
	r.Counts.Queued, r.Counts.Running = 0, 0
	return nil
}

// Runs returns up to limit runs (all for limit <= 0) older than before
// (from the newest for before <= 0), newest first.
func (d *DB) Runs(limit int, before int64) ([]Run, error) {
	if limit <= 0 {
		limit = -1 // SQLite's "no limit"
	}
	if before <= 0 {
		before = math.MaxInt64
	}
	rows, err := d.db.Query(`SELECT `+runCols+` FROM runs WHERE id < ? ORDER BY id DESC LIMIT ?`, before, limit)
	if err != nil {
		return nil, d.wrap("runs", err)
	}
	runs, live, err := collectRuns(rows)
	if err != nil {
		return nil, d.wrap("runs", err)
	}
	if len(runs) == 0 {
		return runs, nil
	}
	// Finished runs have their counts; the others are counted, in one
	// range of ids (they are the newest, a handful at most).
	lo, hi := int64(math.MaxInt64), int64(0)
	for _, r := range runs {
		if !r.counted {
			lo, hi = min(lo, r.ID), max(hi, r.ID)
		}
	}
	counts := map[int64]Counts{}
	if hi > 0 {
		if counts, err = d.counts(lo, hi); err != nil {
			return nil, err
		}
	}
	for i := range runs {
		if !runs[i].counted {
			runs[i].Counts = counts[runs[i].ID]
		}
		if d.dead(live[i]) {
			if err := d.interrupted(&runs[i]); err != nil {
				return nil, err
			}
		}
	}
	return runs, nil
}

func collectRuns(rows *sql.Rows) ([]Run, []liveness, error) {
	defer rows.Close()
	var runs []Run
	var live []liveness
	for rows.Next() {
		r, l, err := scanRun(rows)
		if err != nil {
			return nil, nil, err
		}
		runs = append(runs, r)
		live = append(live, l)
	}
	return runs, live, rows.Err()
}

// counts counts the jobs of the runs from lo to hi by status, in one
// query that reads the index jobs_status alone.
func (d *DB) counts(lo, hi int64) (map[int64]Counts, error) {
	rows, err := d.db.Query(`SELECT run, status, count(*) FROM jobs WHERE run BETWEEN ? AND ? GROUP BY run, status`, lo, hi)
	if err != nil {
		return nil, d.wrap("count jobs", err)
	}
	defer rows.Close()
	m := map[int64]Counts{}
	for rows.Next() {
		var run int64
		var status string
		var n int
		if err := rows.Scan(&run, &status, &n); err != nil {
			return nil, d.wrap("count jobs", err)
		}
		c := m[run]
		c.add(status, n)
		m[run] = c
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap("count jobs", err)
	}
	return m, nil
}

// one reads one run, with its counts.
func (d *DB) one(op, where string, args ...any) (Run, error) {
	r, l, err := scanRun(d.db.QueryRow(`SELECT `+runCols+` FROM runs `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, d.wrap(op, ErrNotFound)
	}
	if err != nil {
		return Run{}, d.wrap(op, err)
	}
	return d.complete(r, l)
}

func (d *DB) complete(r Run, l liveness) (Run, error) {
	if !r.counted {
		counts, err := d.counts(r.ID, r.ID)
		if err != nil {
			return Run{}, err
		}
		r.Counts = counts[r.ID]
	}
	if d.dead(l) {
		if err := d.interrupted(&r); err != nil {
			return Run{}, err
		}
	}
	return r, nil
}

// Run returns a run.
func (d *DB) Run(id int64) (Run, error) {
	return d.one(fmt.Sprintf("run %d", id), `WHERE id = ?`, id)
}

// Latest returns the newest run.
func (d *DB) Latest() (Run, error) {
	return d.one("latest run", `ORDER BY id DESC LIMIT 1`)
}

// Current returns the run of this host that is running now, if there is
// one (the newest, should there be more).
func (d *DB) Current() (Run, bool, error) {
	rows, err := d.db.Query(`SELECT `+runCols+` FROM runs WHERE state = 'running' AND host = ? ORDER BY id DESC`, d.host)
	if err != nil {
		return Run{}, false, d.wrap("current run", err)
	}
	runs, live, err := collectRuns(rows)
	if err != nil {
		return Run{}, false, d.wrap("current run", err)
	}
	for i, r := range runs {
		if !d.dead(live[i]) {
			r, err := d.complete(r, live[i])
			return r, err == nil, err
		}
	}
	return Run{}, false, nil
}

func scanJob(s scanner, extra ...any) (Job, error) {
	var j Job
	var started, ended sql.NullInt64
	var outputs sql.NullString
	err := s.Scan(append([]any{&j.Run, &j.ID, &j.Package, &j.Arch, &j.SIG, &j.Status, &started, &ended,
		&j.Key, &j.Log, &outputs, &j.Error, &j.Detail, &j.Seq}, extra...)...)
	if err != nil {
		return Job{}, err
	}
	if started.Valid {
		j.Started = fromNanos(started.Int64)
	}
	if ended.Valid {
		j.Ended = fromNanos(ended.Int64)
	}
	if outputs.Valid {
		if err := json.Unmarshal([]byte(outputs.String), &j.Outputs); err != nil {
			return Job{}, fmt.Errorf("job %s: outputs: %w", j.ID, err)
		}
	}
	return j, nil
}

// interruptedJob shows a job of a dead running run as Begin will record
// it.
func interruptedJob(j *Job) {
	if j.Status == Queued || j.Status == Running {
		j.Status = Interrupted
	}
}

// Jobs returns a run's jobs that match f, in job id order.
func (d *DB) Jobs(run int64, f Filter) ([]Job, error) {
	op := fmt.Sprintf("run %d: jobs", run)
	var l liveness
	err := d.db.QueryRow(`SELECT state, host, pid, proc FROM runs WHERE id = ?`, run).Scan(&l.state, &l.host, &l.pid, &l.ident)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, d.wrap(op, ErrNotFound)
	}
	if err != nil {
		return nil, d.wrap(op, err)
	}
	dead := d.dead(l)

	where := []string{"j.run = ?"}
	args := []any{run}
	if f.Package != "" {
		where, args = append(where, "j.package = ?"), append(args, f.Package)
	}
	if f.Arch != "" {
		where, args = append(where, "j.arch = ?"), append(args, f.Arch)
	}
	if f.Since > 0 {
		where, args = append(where, "j.seq > ?"), append(args, f.Since)
	}
	switch {
	case f.Status == "":
	case dead && (f.Status == Queued || f.Status == Running):
		return nil, nil // they all read as interrupted
	case dead && f.Status == Interrupted:
		where, args = append(where, "j.status IN (?, ?, ?)"), append(args, Interrupted, Queued, Running)
	default:
		where, args = append(where, "j.status = ?"), append(args, f.Status)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	args = append(args, limit, max(f.Offset, 0))
	rows, err := d.db.Query(`SELECT `+jobCols+` FROM jobs j WHERE `+strings.Join(where, " AND ")+` ORDER BY j.id LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, d.wrap(op, err)
	}
	defer rows.Close()
	var jobs []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, d.wrap(op, err)
		}
		if dead {
			interruptedJob(&j)
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap(op, err)
	}
	return jobs, nil
}

const jobRunSQL = `SELECT ` + jobCols + `, r.state, r.host, r.pid, r.proc FROM jobs j JOIN runs r ON r.id = j.run `

// Job returns one job of a run.
func (d *DB) Job(run int64, id string) (Job, error) {
	op := fmt.Sprintf("run %d: job %s", run, id)
	var l liveness
	j, err := scanJob(d.db.QueryRow(jobRunSQL+`WHERE j.run = ? AND j.id = ?`, run, id), &l.state, &l.host, &l.pid, &l.ident)
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, d.wrap(op, ErrNotFound)
	}
	if err != nil {
		return Job{}, d.wrap(op, err)
	}
	if d.dead(l) {
		interruptedJob(&j)
	}
	return j, nil
}

// JobRuns returns up to limit (all for limit <= 0) of a job's rows
// across runs, newest run first.
func (d *DB) JobRuns(id string, limit int) ([]Job, error) {
	op := "job " + id
	if limit <= 0 {
		limit = -1
	}
	rows, err := d.db.Query(jobRunSQL+`WHERE j.id = ? ORDER BY j.run DESC LIMIT ?`, id, limit)
	if err != nil {
		return nil, d.wrap(op, err)
	}
	defer rows.Close()
	var jobs []Job
	for rows.Next() {
		var l liveness
		j, err := scanJob(rows, &l.state, &l.host, &l.pid, &l.ident)
		if err != nil {
			return nil, d.wrap(op, err)
		}
		if d.dead(l) {
			interruptedJob(&j)
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap(op, err)
	}
	if len(jobs) == 0 {
		return nil, d.wrap(op, fmt.Errorf("in no run: %w", ErrNotFound))
	}
	return jobs, nil
}

// Composes returns up to limit (all for limit <= 0) published composes,
// newest first.
func (d *DB) Composes(limit int) ([]Compose, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := d.db.Query(`SELECT id, run, at, packages, repos FROM composes ORDER BY at DESC, rowid DESC LIMIT ?`, limit)
	if err != nil {
		return nil, d.wrap("composes", err)
	}
	defer rows.Close()
	var cs []Compose
	for rows.Next() {
		var c Compose
		var at int64
		if err := rows.Scan(&c.ID, &c.Run, &at, &c.Packages, &c.Repos); err != nil {
			return nil, d.wrap("composes", err)
		}
		c.At = fromNanos(at)
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, d.wrap("composes", err)
	}
	return cs, nil
}

// list reads a JSON list column; none is nil, as it was written.
func list(s string) ([]string, error) {
	if s == "[]" {
		return nil, nil
	}
	var l []string
	err := json.Unmarshal([]byte(s), &l)
	return l, err
}

func fromNanos(n int64) time.Time { return time.Unix(0, n) }
