// Package history is Quarry's record of its runs (quarry build, quarry
// publish, rollbacks) and of every job of each, kept in one SQLite
// database, <state>/history.db, that the CLI (quarry runs, quarry status,
// quarry log) and the web console read while a build writes it.
//
// Why SQLite: the history is queried (the newest runs, a run's failed
// jobs, one job across runs) and updated on every job event, which a
// folder of JSON files does badly once there are a million job rows; and
// it needs no server. Why WAL: readers in other processes see the last
// committed state while the writer goes on, neither blocking the other.
// The driver, modernc.org/sqlite, is SQLite compiled to pure Go, so Quarry
// keeps building without cgo or a C toolchain.
//
// One process writes at a time (the build holds a file lock for that);
// any number read, through OpenReadOnly. Readers never write: a run whose
// process is gone without finishing it reads as interrupted, and the next
// writer's Begin records it so.
package history

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeoutMS is how long a statement waits for another connection's
// lock before it fails with "database is locked": in WAL mode only a
// writer waits (for another writer, or a checkpoint), and never long.
const busyTimeoutMS = 5000

// DB is an open history database.
type DB struct {
	path     string
	db       *sql.DB
	readOnly bool
	host     string // this host, whose runs' processes can be checked

	// Prepared once: UpdateJob is called on every job event of a build.
	updateJob *sql.Stmt

	mu      sync.Mutex
	lastSeq int64 // the last job write's sequence number
}

// nextSeq numbers a job write: increasing within this writer, and, being
// time based, past what an earlier writer of the file wrote.
func (d *DB) nextSeq() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := time.Now().UnixNano()
	if s <= d.lastSeq {
		s = d.lastSeq + 1
	}
	d.lastSeq = s
	return s
}

// Open opens the history database at path for writing, creating it (mode
// 0600, and its folder 0700) if it is missing, and brings its schema up to
// date.
func Open(path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("history %s: %w", abs, err)
	}
	// SQLite would create the file with the umask's mode; create it first
	// so the history (user names, command lines) is the owner's only. The
	// -wal and -shm files take the database file's mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", abs, err)
	}
	f.Close()

	// The pragmas go in the DSN, not in one Exec after opening, because
	// database/sql opens connections as it needs them and each must get
	// them. _txlock=immediate: every transaction here writes, and one that
	// took the write lock only at its first write could fail with
	// SQLITE_BUSY at once, past the busy timeout, if another connection
	// wrote in between.
	q := url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS),
			"journal_mode(WAL)",
			"foreign_keys(1)",
			// In WAL mode NORMAL cannot corrupt the database; a power cut
			// may lose the last transactions, which the history can bear,
			// and a commit costs no fsync.
			"synchronous(NORMAL)",
		},
		"_txlock": {"immediate"},
	}
	d, err := open(abs, q, false)
	if err != nil {
		return nil, err
	}
	if err := d.migrate(); err != nil {
		d.db.Close()
		return nil, err
	}
	if d.updateJob, err = d.db.Prepare(updateJobSQL); err != nil {
		d.db.Close()
		return nil, d.wrap("prepare", err)
	}
	return d, nil
}

// OpenReadOnly opens the history database at path for reading, while
// another process may be writing it. It never creates the file, and
// fails if the schema is not the one this binary knows.
func OpenReadOnly(path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	if _, err := os.Stat(abs); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("history %s: no such file: no run has been recorded yet: %w", abs, err)
	} else if err != nil {
		return nil, fmt.Errorf("history %s: %w", abs, err)
	}
	// mode=ro: SQLite fails rather than create a missing file, and any
	// write fails. The journal mode is the file's (WAL, set by the
	// writer), not a connection's, so it is not set here.
	q := url.Values{
		"mode":    {"ro"},
		"_pragma": {fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS)},
	}
	d, err := open(abs, q, true)
	if err != nil {
		return nil, err
	}
	if err := d.checkVersion(); err != nil {
		d.db.Close()
		return nil, err
	}
	return d, nil
}

func open(abs string, q url.Values, readOnly bool) (*DB, error) {
	// A file: URI, so that SQLite reads mode=ro; url.URL escapes the
	// characters of the path that would end it (?, #, %).
	dsn := (&url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", abs, err)
	}
	d := &DB{path: abs, db: db, readOnly: readOnly}
	d.host, _ = os.Hostname()
	// Connect now, so that a file that is not a database, or cannot be
	// opened, fails here and not at the first query.
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, d.wrap("open", err)
	}
	return d, nil
}

// Path is the database file's absolute path.
func (d *DB) Path() string { return d.path }

// Close closes the database. The last connection to close checkpoints
// the WAL into the database file.
func (d *DB) Close() error {
	if d.updateJob != nil {
		d.updateJob.Close()
	}
	if err := d.db.Close(); err != nil {
		return d.wrap("close", err)
	}
	return nil
}

// wrap names the file and the operation in an error.
func (d *DB) wrap(op string, err error) error {
	return fmt.Errorf("history %s: %s: %w", d.path, op, err)
}

var errReadOnly = errors.New("opened read-only")

func (d *DB) writable(op string) error {
	if d.readOnly {
		return d.wrap(op, errReadOnly)
	}
	return nil
}
