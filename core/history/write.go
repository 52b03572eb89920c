package history

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The writer's side. One process writes at a time (the build's file lock
// sees to it); each call is one transaction.

// Begin records a run as running and returns its id. Zero PID, Host, User
// and Started are this process's, this host's, this user's and now.
// First it records as interrupted every running run of this host whose
// process is gone, with its queued and running jobs: a run that was
// killed, or whose machine went down, never finished itself.
func (d *DB) Begin(r Run) (int64, error) {
	if err := d.writable("begin"); err != nil {
		return 0, err
	}
	if r.Command == "" {
		return 0, d.wrap("begin", errors.New("a run needs a command"))
	}
	if r.PID == 0 {
		r.PID = os.Getpid()
	}
	if r.Host == "" {
		r.Host = d.host
	}
	if r.User == "" {
		if u, err := user.Current(); err == nil {
			r.User = u.Username
		}
	}
	if r.Started.IsZero() {
		r.Started = time.Now()
	}
	tx, err := d.db.Begin()
	if err != nil {
		return 0, d.wrap("begin", err)
	}
	defer tx.Rollback()
	if err := d.sweep(tx); err != nil {
		return 0, err
	}
	var ident string
	if r.Host == d.host {
		ident = procIdent(r.PID)
	}
	res, err := tx.Exec(`INSERT INTO runs (command, args, user, host, pid, proc, started, config_digest, lock_digest, state, phase)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Command, jsonList(r.Args), r.User, r.Host, r.PID, ident, r.Started.UnixNano(),
		r.ConfigDigest, r.LockDigest, StateRunning, r.Phase)
	if err != nil {
		return 0, d.wrap("begin", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, d.wrap("begin", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, d.wrap("begin", err)
	}
	return id, nil
}

// sweep records the dead running runs of this host as interrupted.
func (d *DB) sweep(tx *sql.Tx) error {
	// state = 'running' is written out, not bound, so that the partial
	// index runs_running serves it.
	rows, err := tx.Query(`SELECT id, pid, proc FROM runs WHERE state = 'running' AND host = ?`, d.host)
	if err != nil {
		return d.wrap("begin: find interrupted runs", err)
	}
	var dead []int64
	for rows.Next() {
		var id int64
		var pid int
		var ident string
		if err := rows.Scan(&id, &pid, &ident); err != nil {
			rows.Close()
			return d.wrap("begin: find interrupted runs", err)
		}
		if !alive(pid, ident) {
			dead = append(dead, id)
		}
	}
	if err := rows.Err(); err != nil {
		return d.wrap("begin: find interrupted runs", err)
	}
	rows.Close()
	for _, id := range dead {
		if _, err := tx.Exec(`UPDATE runs SET state = ?2, ended = (`+lastSignSQL+`) WHERE id = ?1`, id, StateInterrupted); err != nil {
			return d.wrap(fmt.Sprintf("begin: record run %d interrupted", id), err)
		}
		if _, err := tx.Exec(`UPDATE jobs SET status = ? WHERE run = ? AND status IN ('queued', 'running')`, Interrupted, id); err != nil {
			return d.wrap(fmt.Sprintf("begin: record run %d interrupted", id), err)
		}
	}
	return nil
}

// lastSignSQL is when a run (?1) was last heard of: its latest job time,
// or its start. It stands for the end of a run that was interrupted.
const lastSignSQL = `SELECT max(r.started, coalesce((SELECT max(max(coalesce(j.started, 0), coalesce(j.ended, 0))) FROM jobs j WHERE j.run = ?1), 0)) FROM runs r WHERE r.id = ?1`

// SetPhase records the phase a run has entered.
func (d *DB) SetPhase(run int64, phase string) error {
	if err := d.writable("set phase"); err != nil {
		return err
	}
	res, err := d.db.Exec(`UPDATE runs SET phase = ? WHERE id = ?`, phase, run)
	return d.changed(res, err, fmt.Sprintf("run %d: set phase", run))
}

// AddJobs records a run's jobs, in one transaction; an empty Status is
// queued.
func (d *DB) AddJobs(run int64, jobs []Job) error {
	op := fmt.Sprintf("run %d: add jobs", run)
	if err := d.writable(op); err != nil {
		return err
	}
	tx, err := d.db.Begin()
	if err != nil {
		return d.wrap(op, err)
	}
	defer tx.Rollback()
	st, err := tx.Prepare(`INSERT INTO jobs (run, id, package, arch, sig, status, started, ended, key, log, outputs, error, detail, seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return d.wrap(op, err)
	}
	defer st.Close()
	for _, j := range jobs {
		if j.ID == "" {
			return d.wrap(op, errors.New("a job needs an id"))
		}
		if j.Status == "" {
			j.Status = Queued
		}
		if _, err := st.Exec(run, j.ID, j.Package, j.Arch, j.SIG, j.Status, nanos(j.Started), nanos(j.Ended),
			j.Key, j.Log, jsonOutputs(j.Outputs), j.Error, j.Detail, d.nextSeq()); err != nil {
			return d.wrap(op+" "+j.ID, d.fk(err, run))
		}
	}
	if err := tx.Commit(); err != nil {
		return d.wrap(op, err)
	}
	return nil
}

// updateJobSQL upserts a job's state. Status and Detail are the event's;
// every other field is set when the event carries it and kept when it is
// zero, so an event need carry only what it knows (a job's start, then
// its end and outputs).
const updateJobSQL = `INSERT INTO jobs (run, id, package, arch, sig, status, started, ended, key, log, outputs, error, detail, seq)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (run, id) DO UPDATE SET
		package = iif(excluded.package = '', package, excluded.package),
		arch    = iif(excluded.arch = '', arch, excluded.arch),
		sig     = iif(excluded.sig = '', sig, excluded.sig),
		status  = excluded.status,
		started = coalesce(excluded.started, started),
		ended   = coalesce(excluded.ended, ended),
		key     = iif(excluded.key = '', key, excluded.key),
		log     = iif(excluded.log = '', log, excluded.log),
		outputs = coalesce(excluded.outputs, outputs),
		error   = iif(excluded.error = '', error, excluded.error),
		detail  = excluded.detail,
		seq     = excluded.seq`

// UpdateJob records one job event: the job's new status and what the
// event knows (see updateJobSQL), adding the job if AddJobs did not.
func (d *DB) UpdateJob(run int64, j Job) error {
	op := fmt.Sprintf("run %d: update job %s", run, j.ID)
	if err := d.writable(op); err != nil {
		return err
	}
	if j.ID == "" || j.Status == "" {
		return d.wrap(op, errors.New("a job event needs a job id and a status"))
	}
	_, err := d.updateJob.Exec(run, j.ID, j.Package, j.Arch, j.SIG, j.Status, nanos(j.Started), nanos(j.Ended),
		j.Key, j.Log, jsonOutputs(j.Outputs), j.Error, j.Detail, d.nextSeq())
	if err != nil {
		return d.wrap(op, d.fk(err, run))
	}
	return nil
}

// Finish records how a run ended: succeeded, failed, interrupted or
// nothing, the compose it published ("" for none) and its errors. Its
// jobs still queued or running are recorded as interrupted: nothing of
// the run runs any more.
func (d *DB) Finish(run int64, state string, compose string, errs []string) error {
	op := fmt.Sprintf("run %d: finish", run)
	if err := d.writable(op); err != nil {
		return err
	}
	switch state {
	case StateSucceeded, StateFailed, StateInterrupted, StateNothing:
	default:
		return d.wrap(op, fmt.Errorf("%q is not a final state (succeeded, failed, interrupted, nothing)", state))
	}
	tx, err := d.db.Begin()
	if err != nil {
		return d.wrap(op, err)
	}
	defer tx.Rollback()
	res, err := tx.Exec(`UPDATE runs SET state = ?, compose = ?, errors = ?, ended = ? WHERE id = ?`,
		state, compose, jsonList(errs), time.Now().UnixNano(), run)
	if err := d.changed(res, err, op); err != nil {
		return err
	}
	if _, err := tx.Exec(`UPDATE jobs SET status = ?, seq = ? WHERE run = ? AND status IN ('queued', 'running')`, Interrupted, d.nextSeq(), run); err != nil {
		return d.wrap(op, err)
	}
	// Its jobs are final now: their counts are stored with it.
	var c Counts
	rows, err := tx.Query(`SELECT status, count(*) FROM jobs WHERE run = ? GROUP BY status`, run)
	if err != nil {
		return d.wrap(op, err)
	}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			rows.Close()
			return d.wrap(op, err)
		}
		c.add(status, n)
	}
	rows.Close()
	counts, _ := json.Marshal(c)
	if _, err := tx.Exec(`UPDATE runs SET counts = ? WHERE id = ?`, string(counts), run); err != nil {
		return d.wrap(op, err)
	}
	if err := tx.Commit(); err != nil {
		return d.wrap(op, err)
	}
	return nil
}

// Published records a compose that a run published; a zero At is now. A
// compose published again (by a later run) is recorded with its latest
// publication.
func (d *DB) Published(c Compose) error {
	op := fmt.Sprintf("run %d: published %s", c.Run, c.ID)
	if err := d.writable(op); err != nil {
		return err
	}
	if c.ID == "" {
		return d.wrap(op, errors.New("a compose needs an id"))
	}
	if c.At.IsZero() {
		c.At = time.Now()
	}
	_, err := d.db.Exec(`INSERT INTO composes (id, run, at, packages, repos) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET run = excluded.run, at = excluded.at, packages = excluded.packages, repos = excluded.repos`,
		c.ID, c.Run, c.At.UnixNano(), c.Packages, c.Repos)
	if err != nil {
		return d.wrap(op, d.fk(err, c.Run))
	}
	return nil
}

// changed turns an UPDATE of no row into ErrNotFound.
func (d *DB) changed(res sql.Result, err error, op string) error {
	if err != nil {
		return d.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return d.wrap(op, err)
	}
	if n == 0 {
		return d.wrap(op, ErrNotFound)
	}
	return nil
}

// fk turns the foreign key error of a row for a missing run into
// ErrNotFound.
func (d *DB) fk(err error, run int64) error {
	var e *sqlite.Error
	if errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		return fmt.Errorf("no run %d: %w", run, ErrNotFound)
	}
	return err
}

func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func jsonList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// jsonOutputs is NULL for none, which UpdateJob reads as "keep".
func jsonOutputs(o []Output) any {
	if len(o) == 0 {
		return nil
	}
	b, _ := json.Marshal(o)
	return string(b)
}
