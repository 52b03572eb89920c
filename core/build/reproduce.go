package build

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/core/store"
)

// Mismatch is an RPM a rebuild did not reproduce byte for byte.
type Mismatch struct {
	Job  string
	File string
	// Want and Got are the recorded and the rebuilt sha256 ("" when the
	// rebuild did not write the file at all, or wrote one more).
	Want, Got string
	// Tags are the header tags that differ; Payload says whether the
	// payload (the files) differs.
	Tags    []string
	Payload bool
}

func (m Mismatch) String() string {
	switch {
	case m.Got == "":
		return fmt.Sprintf("%s: %s: the rebuild did not write it", m.Job, m.File)
	case m.Want == "":
		return fmt.Sprintf("%s: %s: only the rebuild wrote it", m.Job, m.File)
	}
	var what []string
	if len(m.Tags) > 0 {
		what = append(what, "header "+strings.Join(m.Tags, ", "))
	}
	if m.Payload {
		what = append(what, "payload")
	}
	return fmt.Sprintf("%s: %s differs (%s): sha256 %s, rebuilt %s", m.Job, m.File, strings.Join(what, "; "), m.Want, m.Got)
}

// Reproduction is how a rebuild of finished jobs compared.
type Reproduction struct {
	Jobs, SameJobs int
	RPMs, SameRPMs int
	Mismatches     []Mismatch
	Errors         map[string]error // jobs whose rebuild failed
}

// Reproducible reports whether every job rebuilt to the same bytes.
func (r *Reproduction) Reproducible() bool {
	return len(r.Mismatches) == 0 && len(r.Errors) == 0
}

// Reproduce runs every recorded job again from the same inputs, with
// exec, at most workers at once, and compares each output RPM byte for
// byte with what the record says it wrote. done, when set, is told about
// each job as it finishes.
func Reproduce(ctx context.Context, exec Executor, st *store.Store, recs []*Record, workers int, done func(job string, same bool)) (*Reproduction, error) {
	rep := &Reproduction{Jobs: len(recs), Errors: map[string]error{}}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, workers))
	for _, rec := range recs {
		g.Go(func() error {
			job := rec.Job
			again, err := exec.Run(gctx, &job, nil)
			if gctx.Err() != nil {
				return gctx.Err()
			}
			var ms []Mismatch
			if err == nil {
				ms, err = compare(st, rec, again)
			}
			mu.Lock()
			defer mu.Unlock()
			rep.RPMs += len(rec.Outputs)
			switch {
			case err != nil:
				rep.Errors[job.ID] = err
			case len(ms) == 0:
				rep.SameJobs++
			}
			rep.SameRPMs += len(rec.Outputs) - len(ms)
			rep.Mismatches = append(rep.Mismatches, ms...)
			if done != nil {
				done(job.ID, err == nil && len(ms) == 0)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.Slice(rep.Mismatches, func(i, j int) bool {
		a, b := rep.Mismatches[i], rep.Mismatches[j]
		return a.Job < b.Job || a.Job == b.Job && a.File < b.File
	})
	return rep, nil
}

// compare matches a rebuild's outputs to the record's, by file name.
func compare(st *store.Store, want, got *Record) ([]Mismatch, error) {
	rebuilt := map[string]string{}
	for _, o := range got.Outputs {
		rebuilt[o.File] = o.SHA256
	}
	var ms []Mismatch
	for _, o := range want.Outputs {
		g, ok := rebuilt[o.File]
		delete(rebuilt, o.File)
		if g == o.SHA256 {
			continue
		}
		m := Mismatch{Job: want.Job.ID, File: o.File, Want: o.SHA256, Got: g}
		if ok {
			a, err := st.Get(o.SHA256)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", o.File, err)
			}
			b, err := st.Get(g)
			if err != nil {
				return nil, fmt.Errorf("%s (rebuilt): %w", o.File, err)
			}
			if m.Tags, m.Payload, err = rpmfile.Diff(a, b); err != nil {
				return nil, fmt.Errorf("%s: %w", o.File, err)
			}
		}
		ms = append(ms, m)
	}
	for f, g := range rebuilt {
		ms = append(ms, Mismatch{Job: want.Job.ID, File: f, Got: g})
	}
	return ms, nil
}
