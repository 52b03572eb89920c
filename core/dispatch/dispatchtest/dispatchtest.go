// Package dispatchtest runs a coordinator and workers over an embedded
// JetStream for tests, with a fake inner executor whose every run is
// recorded.
package dispatchtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/quarrylinux/quarry/core/blobs"
	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/dispatch"
	"github.com/quarrylinux/quarry/core/engine"
	"github.com/quarrylinux/quarry/core/engine/enginetest"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/worker"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// Cluster is an embedded server set up for tests, and every run of its
// fake workers' executors.
type Cluster struct {
	t   testing.TB
	Srv *engine.Server
	Eng *engine.Engine

	mu   sync.Mutex
	runs []Run
	// Started receives a Run as each build starts (buffered).
	Started chan Run
}

// Run is one run of a fake executor.
type Run struct{ Worker, Job string }

// New starts the server with o.
func New(t testing.TB, o engine.Options) *Cluster {
	srv, eng := enginetest.Start(t, o)
	return &Cluster{t: t, Srv: srv, Eng: eng, Started: make(chan Run, 100)}
}

// Runs are the fake executors' runs so far.
func (c *Cluster) Runs() []Run {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Run(nil), c.runs...)
}

// Coordinator is a new Executor with a store of its own, over a
// connection of its own.
func (c *Cluster) Coordinator() (*dispatch.Executor, *store.Store) {
	c.t.Helper()
	js, _ := enginetest.Dial(c.t, c.Srv)
	st, _ := store.Open(c.t.TempDir())
	e, err := dispatch.New(context.Background(), js, &blobs.Objects{OS: c.Eng.Objects}, st, hclog.NewNullLogger())
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(e.Close)
	return e, st
}

// Job is a job of arch whose SRPM (unique to id) is in st.
func Job(t testing.TB, st *store.Store, id, arch string) *build.Job {
	d, err := st.Put([]byte("the srpm of " + id))
	if err != nil {
		t.Fatal(err)
	}
	return &build.Job{ID: id, Package: "hello", Arch: arch, SRPM: build.Input{Name: "hello-1.0-1.src.rpm", SHA256: d}}
}

// Worker is a running worker.
type Worker struct {
	*worker.Worker
	Fake *Fake
	// Stop cancels its context (a worker stopping); Kill closes its
	// connection first (a worker that dies: it acks nothing, hands
	// nothing back, heartbeats no more).
	Stop, Kill func()
	// Done is closed when Run returned.
	Done chan struct{}
}

// Worker starts a worker whose fake executor does do before it builds
// (nil: it just builds).
func (c *Cluster) Worker(name, arch string, do func(ctx context.Context, job *build.Job) error) *Worker {
	c.t.Helper()
	var fake *Fake
	w := c.Start(&worker.Worker{Name: name, Arch: arch}, func(st *store.Store) build.Executor {
		fake = &Fake{c: c, Name: name, Store: st, Do: do}
		return fake
	})
	w.Fake = fake
	return w
}

// Start starts w (its Name, Arch, Jobs, Log as given) with the
// executor exec makes over the worker's own store, on a connection of
// its own.
func (c *Cluster) Start(w *worker.Worker, exec func(*store.Store) build.Executor) *Worker {
	c.t.Helper()
	js, closeConn := enginetest.Dial(c.t, c.Srv)
	st, _ := store.Open(c.t.TempDir())
	w.JS, w.Blobs, w.Store, w.Exec = js, &blobs.Objects{OS: c.Eng.Objects}, st, exec(st)
	if w.Log == nil {
		w.Log = hclog.NewNullLogger()
	}
	if w.PullWait == 0 {
		w.PullWait = 200 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Worker{Worker: w, Stop: cancel, Kill: func() { closeConn(); cancel() }, Done: make(chan struct{})}
	go func() {
		defer close(r.Done)
		if err := w.Run(ctx); err != nil {
			c.t.Errorf("worker %s: %v", w.Name, err)
		}
	}()
	c.t.Cleanup(func() { cancel(); <-r.Done })
	return r
}

// Fake builds hello-1.0-1.noarch.rpm (a real one, made by rpmbuild once)
// and a log, after Do.
type Fake struct {
	c     *Cluster
	Name  string
	Store *store.Store
	Do    func(ctx context.Context, job *build.Job) error
	// Output, when set, changes the output the record names.
	Output func(*build.Output)
}

// Run implements build.Executor.
func (f *Fake) Run(ctx context.Context, job *build.Job, _ io.Writer) (*build.Record, error) {
	if !f.Store.Has(job.SRPM.SHA256) {
		return nil, fmt.Errorf("fake: the SRPM of %s was not fetched", job.ID)
	}
	run := Run{Worker: f.Name, Job: job.ID}
	f.c.mu.Lock()
	f.c.runs = append(f.c.runs, run)
	f.c.mu.Unlock()
	f.c.Started <- run
	if f.Do != nil {
		if err := f.Do(ctx, job); err != nil {
			return nil, err
		}
	}
	rpm, err := RPM()
	if err != nil {
		return nil, err
	}
	d, err := f.Store.Put(rpm)
	if err != nil {
		return nil, err
	}
	logd, err := f.Store.Put([]byte("built " + job.ID + " on " + f.Name + "\n"))
	if err != nil {
		return nil, err
	}
	o := build.Output{File: "hello-1.0-1.noarch.rpm", SHA256: d, Name: "hello", Arch: "noarch", EVR: "1.0-1"}
	if f.Output != nil {
		f.Output(&o)
	}
	now := time.Now().UTC()
	return &build.Record{Key: job.Key(), Job: *job, Command: []string{"rpmbuild", "--rebuild"}, Start: now, End: now, Log: logd,
		Outputs: []build.Output{o}}, nil
}

// Log is a failed build's log, put in st, as build.Local leaves it.
func Log(st *store.Store, text string) string {
	d, _ := st.Put([]byte(text))
	return d
}

var rpm struct {
	once sync.Once
	data []byte
	err  error
}

// RPM is hello-1.0-1.noarch.rpm, made by the real rpmbuild.
func RPM() ([]byte, error) {
	rpm.once.Do(func() {
		dir, err := os.MkdirTemp("", "dispatchtest-")
		if err != nil {
			rpm.err = err
			return
		}
		defer os.RemoveAll(dir)
		files, err := fixtures.BuildSpec(dir, "hello", helloSpec)
		if err != nil {
			rpm.err = err
			return
		}
		rpm.data, rpm.err = os.ReadFile(files[0])
	})
	return rpm.data, rpm.err
}

const helloSpec = `Name: hello
Version: 1.0
Release: 1
Summary: Says hello
License: MIT
BuildArch: noarch
%description
Says hello.
%install
mkdir -p %{buildroot}/usr/share/hello
echo hello > %{buildroot}/usr/share/hello/README
%files
/usr/share/hello/README
`
