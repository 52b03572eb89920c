package build

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/core/store"
)

// Local runs jobs on this machine, each in its own sandbox.
type Local struct {
	Store *store.Store
	// Work holds one scratch folder per running job, removed after it.
	Work string
	// Keep leaves failed jobs' folders for inspection.
	Keep bool
}

// Error is a failed job: its ID and the tail of its log.
type Error struct {
	Job  string
	Msg  string
	Tail string
}

func (e *Error) Error() string {
	if e.Tail == "" {
		return fmt.Sprintf("%s: %s", e.Job, e.Msg)
	}
	return fmt.Sprintf("%s: %s; the log ends:\n%s", e.Job, e.Msg, indent(e.Tail))
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

// Run implements Executor.
func (l *Local) Run(ctx context.Context, job *Job, logw io.Writer) (*Record, error) {
	if err := os.MkdirAll(l.Work, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(l.Work, strings.ReplaceAll(job.ID, "/", "@")+"-")
	if err != nil {
		return nil, err
	}
	failed := true
	defer func() {
		if !failed || !l.Keep {
			os.RemoveAll(work)
		}
	}()
	rec := &Record{Key: job.Key(), Job: *job, Start: time.Now().UTC()}
	if err := l.prepare(work, job); err != nil {
		return nil, &Error{Job: job.ID, Msg: "prepare: " + err.Error()}
	}
	// Time stamps around rpmbuild separate its time from the overhead.
	stamp := func(name string) string { return "date +%s%N > " + sandbox.Dir + "/.t-" + name + "\n" }
	script := "set -e\n"
	if len(job.Buildroot) > 0 {
		script += "rpm --root " + plan.Sysroot + " --dbpath /var/lib/rpm -i --nodeps --noscripts --ignorearch --ignoreos " +
			sandbox.Dir + "/deps/*.rpm\n"
	}
	rpmbuild := append([]string{"rpmbuild"}, job.Env.RPMArgs()...)
	rpmbuild = append(rpmbuild, "--nodeps", "--rebuild", sandbox.Dir+"/"+job.SRPM.Name)
	script += stamp("rpmbuild") + sandbox.Line(rpmbuild...) + "\n" + stamp("end")
	cmd := []string{"sh", "-c", script}
	rec.Command = sandbox.Sandbox{Work: sandbox.Dir}.Command(cmd...)

	logFile, err := os.Create(filepath.Join(work, "build.log"))
	if err != nil {
		return nil, err
	}
	out := io.Writer(logFile)
	if logw != nil {
		out = io.MultiWriter(logFile, logw)
	}
	runErr := sandbox.Sandbox{Work: work}.Run(ctx, out, cmd...)
	logFile.Close()
	logData, _ := os.ReadFile(filepath.Join(work, "build.log"))
	if runErr != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Job: job.ID, Msg: "rpmbuild failed", Tail: plan.Tail(string(logData), 25)}
	}
	rec.RPMBuild = between(work, "rpmbuild", "end")
	if rec.Log, err = l.Store.Put(logData); err != nil {
		return nil, err
	}
	if rec.Outputs, err = l.collect(work, job); err != nil {
		return nil, err
	}
	rec.End = time.Now().UTC()
	failed = false
	return rec, nil
}

// prepare writes the job's inputs into its folder, from the store.
func (l *Local) prepare(work string, job *Job) error {
	if err := plan.WriteEnv(work, job.Env); err != nil {
		return err
	}
	put := func(dst string, in Input) error {
		data, err := l.Store.Get(in.SHA256)
		if err != nil {
			return fmt.Errorf("%s: %w", in.Name, err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	}
	if err := put(filepath.Join(work, job.SRPM.Name), job.SRPM); err != nil {
		return err
	}
	for _, in := range job.Buildroot {
		if err := put(filepath.Join(work, "deps", in.Name), in); err != nil {
			return err
		}
	}
	return nil
}

// collect checks the RPMs rpmbuild wrote and moves them into the store.
func (l *Local) collect(work string, job *Job) ([]Output, error) {
	files, _ := filepath.Glob(filepath.Join(work, "top", "RPMS", "*", "*.rpm"))
	if len(files) == 0 {
		return nil, &Error{Job: job.ID, Msg: "rpmbuild wrote no RPM"}
	}
	sort.Strings(files)
	var outs []Output
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		name := filepath.Base(f)
		rpm, err := rpmfile.Read(name, data)
		if err != nil {
			return nil, &Error{Job: job.ID, Msg: err.Error()}
		}
		if err := checkELF(name, rpm, job.Arch); err != nil {
			return nil, &Error{Job: job.ID, Msg: "wrong architecture: " + err.Error()}
		}
		d, err := l.Store.Put(data)
		if err != nil {
			return nil, err
		}
		evr := rpm.Version() + "-" + rpm.Release()
		if rpm.Epoch() > 0 {
			evr = fmt.Sprintf("%d:%s", rpm.Epoch(), evr)
		}
		outs = append(outs, Output{File: name, SHA256: d, Name: rpm.Name(), Arch: rpm.Architecture(), EVR: evr})
	}
	return outs, nil
}

// between reads two of the script's time stamps.
func between(work, from, to string) time.Duration {
	read := func(name string) int64 {
		data, _ := os.ReadFile(filepath.Join(work, ".t-"+name))
		n, _ := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		return n
	}
	a, b := read(from), read(to)
	if a == 0 || b < a {
		return 0
	}
	return time.Duration(b - a)
}
