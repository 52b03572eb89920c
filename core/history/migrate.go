package history

import (
	"fmt"
)

// migrations are the schema's versions, in order: migrations[i] brings a
// database from version i to i+1, in one transaction with the version,
// kept in PRAGMA user_version (in the file's header, so it needs no table
// and commits with the rest). Append only: a released migration is never
// edited, since databases out there have applied it.
var migrations = []string{
	// 1: runs, their jobs, and the composes they published.
	`
CREATE TABLE runs (
	-- AUTOINCREMENT: a run's id is never reused, even if the newest rows
	-- are ever pruned, since logs and links name runs by it.
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	command       TEXT    NOT NULL,
	args          TEXT    NOT NULL DEFAULT '[]', -- JSON array
	user          TEXT    NOT NULL DEFAULT '',
	host          TEXT    NOT NULL DEFAULT '',
	pid           INTEGER NOT NULL DEFAULT 0,
	-- The process's boot and start time, when it could be read, so that
	-- a pid reused by another process (after a reboot, say) is not taken
	-- for the run's.
	proc          TEXT    NOT NULL DEFAULT '',
	started       INTEGER NOT NULL, -- Unix nanoseconds
	ended         INTEGER,          -- NULL while running
	config_digest TEXT    NOT NULL DEFAULT '',
	lock_digest   TEXT    NOT NULL DEFAULT '',
	state         TEXT    NOT NULL,
	phase         TEXT    NOT NULL DEFAULT '',
	compose       TEXT    NOT NULL DEFAULT '',
	errors        TEXT    NOT NULL DEFAULT '[]' -- JSON array
);
-- Begin and Current look for the running rows only, a handful at most.
CREATE INDEX runs_running ON runs (host) WHERE state = 'running';

-- A run's jobs, clustered by run then job id (WITHOUT ROWID): a run's
-- jobs in id order, and one job of a run, are one range of the table.
CREATE TABLE jobs (
	run     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	id      TEXT    NOT NULL,
	package TEXT    NOT NULL DEFAULT '',
	arch    TEXT    NOT NULL DEFAULT '',
	sig     TEXT    NOT NULL DEFAULT '',
	status  TEXT    NOT NULL,
	started INTEGER, -- Unix nanoseconds, NULL before it starts
	ended   INTEGER,
	key     TEXT    NOT NULL DEFAULT '',
	log     TEXT    NOT NULL DEFAULT '',
	outputs TEXT,    -- JSON array, NULL for none
	error   TEXT    NOT NULL DEFAULT '',
	detail  TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (run, id)
) WITHOUT ROWID;
-- A run's jobs of one status, in id order (Jobs with a Status filter),
-- and the run's counts by status, read from the index alone.
CREATE INDEX jobs_status ON jobs (run, status, id);
-- A run's jobs of one package (quarry log PKG, the console's search).
CREATE INDEX jobs_package ON jobs (run, package, arch);
-- One job across runs, newest first (JobRuns).
CREATE INDEX jobs_job ON jobs (id, run);

CREATE TABLE composes (
	id       TEXT    NOT NULL UNIQUE,
	run      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	at       INTEGER NOT NULL, -- Unix nanoseconds
	packages INTEGER NOT NULL DEFAULT 0,
	repos    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX composes_at ON composes (at);
`,
	// 2: a finished run's counts, stored once (its jobs never change
	// again, and counting 10,000 jobs per run of a list is what made
	// the runs page slow), and each job's write sequence, so that a live
	// view reads only the jobs that changed since it last looked.
	`
ALTER TABLE runs ADD COLUMN counts TEXT; -- JSON Counts once ended, NULL while running
ALTER TABLE jobs ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_seq ON jobs (run, seq);
`,
}

// migrate applies the migrations the database has not had, each in its
// own transaction. Another writer opening the same file at once waits on
// the first's write lock (immediate transactions) and then finds the
// version already raised.
func (d *DB) migrate() error {
	for {
		done, err := d.migrateOne()
		if err != nil || done {
			return err
		}
	}
}

func (d *DB) migrateOne() (done bool, err error) {
	tx, err := d.db.Begin()
	if err != nil {
		return false, d.wrap("migrate", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		return false, d.wrap("migrate: read schema version", err)
	}
	if v > len(migrations) {
		return false, d.newerError(v)
	}
	if v == len(migrations) {
		return true, nil
	}
	if _, err := tx.Exec(migrations[v]); err != nil {
		return false, d.wrap(fmt.Sprintf("migrate to schema version %d", v+1), err)
	}
	// PRAGMA takes no parameters; v+1 is an int.
	if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, d.wrap(fmt.Sprintf("migrate to schema version %d", v+1), err)
	}
	if err := tx.Commit(); err != nil {
		return false, d.wrap(fmt.Sprintf("migrate to schema version %d", v+1), err)
	}
	return false, nil
}

func (d *DB) newerError(v int) error {
	return fmt.Errorf("history %s: schema version %d is newer than this quarry's (version %d): it was written by a later quarry; use that one", d.path, v, len(migrations))
}

// checkVersion is a reader's migrate: it may not write, so the schema
// must be the one it knows.
func (d *DB) checkVersion() error {
	var v int
	if err := d.db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		return d.wrap("read schema version", err)
	}
	switch {
	case v > len(migrations):
		return d.newerError(v)
	case v == 0:
		return fmt.Errorf("history %s: no schema (version 0): no run has been recorded yet", d.path)
	case v < len(migrations):
		return fmt.Errorf("history %s: schema version %d is older than this quarry's (version %d): the next quarry command that records a run (quarry build) upgrades it", d.path, v, len(migrations))
	}
	return nil
}
