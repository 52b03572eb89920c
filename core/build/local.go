package build

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/core/safetext"
	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/toolchain"
)

// Local runs jobs on this machine, each in its own sandbox.
type Local struct {
	Store *store.Store
	// Work holds the host's side of each running job (its log), and the
	// copies of failed jobs' folders that Keep asks for.
	Work string
	// Keep copies failed jobs' folders into Work for inspection.
	Keep bool
	// Limits bound every job (time, processes, disk, log).
	Limits sandbox.Limits
	// Roots are the unpacked buildroot images, by digest: a job whose
	// Env names one builds in it.
	Roots map[string]string
	// Find is asked for an image Roots does not hold, and returns where
	// it unpacked it (a worker's fetches it from the engine by digest).
	// Its error is the machine's, not the job's: not a *Error.
	Find func(ctx context.Context, digest string) (string, error)
}

// Error is a failed job: its ID and the tail of its log.
type Error struct {
	Job  string
	Msg  string
	Tail string
	// Log is the whole log's sha256 in the store (as long as the log
	// limit let it grow), kept for quarry log and the console.
	Log string
	Err error // the sandbox's error, a *sandbox.LimitError when a limit stopped it
}

func (e *Error) Error() string {
	if e.Tail == "" {
		return fmt.Sprintf("%s: %s", e.Job, e.Msg)
	}
	return fmt.Sprintf("%s: %s; the log ends:\n%s", e.Job, e.Msg, indent(e.Tail))
}

func (e *Error) Unwrap() error { return e.Err }

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

// Most an RPM, a time stamp or a log the host reads back may be: the disk
// limit bounds the RPMs anyway, and a log past its limit stopped the job.
const maxStamp = 64

// Run implements Executor.
func (l *Local) Run(ctx context.Context, job *Job, logw io.Writer) (*Record, error) {
	if err := os.MkdirAll(l.Work, 0o755); err != nil {
		return nil, err
	}
	// The record's time includes the sandbox's setup and teardown: the
	// overhead a job pays beyond rpmbuild.
	rec := &Record{Key: job.Key(), Job: *job, Start: time.Now().UTC()}
	root := l.Roots[job.Env.Buildroot]
	if d := job.Env.Buildroot; d != "" && root == "" && l.Find != nil {
		var err error
		if root, err = l.Find(ctx, d); err != nil {
			return nil, fmt.Errorf("%s: buildroot %s: %w", job.ID, d, err)
		}
	}
	box, err := sandbox.Open(l.Limits)
	if err != nil {
		return nil, &Error{Job: job.ID, Msg: "sandbox: " + err.Error(), Err: err}
	}
	defer box.Close()
	steps, err := l.steps(box, job, root)
	if err != nil {
		return nil, &Error{Job: job.ID, Msg: err.Error(), Err: err}
	}
	if err := l.prepare(box.Dir(), job); err != nil {
		return nil, &Error{Job: job.ID, Msg: "prepare: " + err.Error()}
	}
	// The log is the host's file, outside the job's folder: the job only
	// writes to a pipe, and the sandbox stops it at the log limit.
	logFile, err := os.CreateTemp(l.Work, strings.ReplaceAll(job.ID, "/", "@")+"-*.log")
	if err != nil {
		return nil, err
	}
	defer os.Remove(logFile.Name())
	out := io.Writer(logFile)
	if logw != nil {
		out = io.MultiWriter(logFile, logw)
	}
	var runErr error
	for i, st := range steps {
		box.RunAs(st.user)
		box.Caps = st.caps
		// The line as it runs, its user and capabilities included: the
		// last is rpmbuild, the ones before it the setup.
		if line := box.Command(st.argv...); i < len(steps)-1 {
			rec.Setup = append(rec.Setup, line)
		} else {
			rec.Command = line
		}
		if runErr = box.Run(ctx, out, st.argv...); runErr != nil {
			break
		}
	}
	if runErr != nil {
		logFile.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := "rpmbuild failed"
		if len(steps) > 1 && stampAt(box, "rpmbuild") == 0 {
			msg = "installing its BuildRequires into the buildroot failed"
		}
		if sandbox.IsLimit(runErr) {
			msg = runErr.Error()
		}
		msg += l.notCarried(job)
		tail := tailOf(logFile.Name(), 25)
		digest := l.keepLog(logFile.Name())
		msg += l.keep(box, job, logFile.Name())
		return nil, &Error{Job: job.ID, Msg: msg, Tail: tail, Log: digest, Err: runErr}
	}
	rec.RPMBuild = between(box, "rpmbuild", "end")
	logData, err := readAll(logFile)
	if err != nil {
		return nil, err
	}
	if rec.Log, err = l.Store.Put(logData); err != nil {
		return nil, err
	}
	if rec.Outputs, err = l.collect(box, job); err != nil {
		if e, ok := err.(*Error); ok {
			e.Msg += l.keep(box, job, logFile.Name())
		}
		return nil, err
	}
	box.Close() // its unmount is part of the job's time
	rec.End = time.Now().UTC()
	return rec, nil
}

// keepLog puts a failed job's log into the store, for quarry log; a log
// that cannot be read is only missing there (the error has its tail).
func (l *Local) keepLog(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	data, err := readAll(f)
	if err != nil {
		return ""
	}
	digest, err := l.Store.Put(data)
	if err != nil {
		return ""
	}
	return digest
}

// A step is one Run of a job: who runs what, with which capabilities.
type step struct {
	user int
	caps []string
	argv []string
}

// installCaps are what rpm -i needs, as the buildroot's root, to install
// files owned by the image's users with their modes and capabilities:
// the namespace's, over the box's own ids.
var installCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_SETFCAP", "CAP_SYS_CHROOT"}

// steps are the job's commands. In a buildroot: its root installs the
// batch's BuildRequires with the root's own rpm, then the build user runs
// the root's rpmbuild, with no capability and no file of the root's its
// own. In the cross mode: one script, the host's rpm installing into a
// sysroot, then the host's rpmbuild.
func (l *Local) steps(box *sandbox.Box, job *Job, root string) ([]step, error) {
	// Time stamps around rpmbuild separate its time from the overhead.
	stamp := func(name string) string { return "date +%s%N > " + sandbox.Dir + "/.t-" + name + "\n" }
	rpmbuild := append([]string{"rpmbuild"}, job.Env.RPMArgs()...)
	// The plan resolved the BuildRequires: the batch's are installed, the
	// rest are the root's (an image's rpmdb need not list them).
	rpmbuild = append(rpmbuild, "--nodeps", "--rebuild", sandbox.Dir+"/"+job.SRPM.Name)
	build := stamp("rpmbuild") + sandbox.Line(rpmbuild...) + "\n" + stamp("end")
	if job.Env.Buildroot == "" {
		script := "set -e\n"
		if len(job.Buildroot) > 0 {
			script += "rpm --root " + toolchain.Sysroot + " --dbpath /var/lib/rpm -i --nodeps --noscripts --ignorearch --ignoreos " +
				sandbox.Dir + "/deps/*.rpm\n"
		}
		// rpm --root chroots into the sysroot to install the BuildRequires:
		// the namespace's chroot, into the job's own folder.
		return []step{{caps: []string{"CAP_SYS_CHROOT"}, argv: []string{"sh", "-c", script + build}}}, nil
	}
	if root == "" {
		return nil, fmt.Errorf("buildroot %s is not unpacked on this machine", job.Env.Buildroot)
	}
	if err := box.UseRoot(root); err != nil {
		return nil, err
	}
	// The folder is the build user's: rpmbuild writes its tree there.
	box.Owner = sandbox.BuildUser
	var steps []step
	if len(job.Buildroot) > 0 {
		steps = append(steps, step{caps: installCaps, argv: []string{"sh", "-c",
			"set -e\nrpm -i --nodeps " + sandbox.Dir + "/deps/*.rpm"}})
	}
	return append(steps, step{user: sandbox.BuildUser, argv: []string{"sh", "-c", "set -e\n" + build}}), nil
}

// notCarried names, for a failed job whose SRPM is a .nosrc.rpm, the
// sources it does not carry (its spec's NoSource:/NoPatch: files, which
// rpm lists as ghosts): a %prep that needs one fails for want of it.
func (l *Local) notCarried(job *Job) string {
	if !strings.HasSuffix(job.SRPM.Name, ".nosrc.rpm") {
		return ""
	}
	data, err := l.Store.Get(job.SRPM.SHA256)
	if err != nil {
		return ""
	}
	f, err := rpmfile.Read(job.SRPM.Name, data)
	if err != nil {
		return ""
	}
	files, _ := f.FlaggedFiles(rpmfile.FileGhost)
	if len(files) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s is a .nosrc.rpm: it does not carry %s, which its spec marks NoSource:/NoPatch:, and a build that needs it fails; "+
		"a spec_change that drops that line makes an SRPM that carries it)",
		job.SRPM.Name, safetext.Terminal(strings.Join(files, ", ")))
}

// keep copies a failed job's folder and its log into Work for
// inspection (links as links, owned by whoever runs Quarry, without the
// job's modes: no setuid file of the job's lands on the host), and says
// where, for the job's error.
func (l *Local) keep(box *sandbox.Box, job *Job, log string) string {
	if !l.Keep {
		return ""
	}
	dst := filepath.Join(l.Work, strings.ReplaceAll(job.ID, "/", "@"))
	os.RemoveAll(dst)
	if out, err := exec.Command("cp", "-R", "--no-dereference", "--preserve=timestamps", box.Dir(), dst).CombinedOutput(); err != nil {
		return fmt.Sprintf(" (its folder could not be kept: %v: %s)", err, strings.TrimSpace(string(out)))
	}
	if data, err := os.ReadFile(log); err == nil {
		os.WriteFile(filepath.Join(dst, "build.log"), data, 0o644)
	}
	return " (its folder and build.log are kept in " + dst + ")"
}

func readAll(f *os.File) ([]byte, error) {
	defer f.Close()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}

// tailOf is the last n lines of a log file, read from its end only.
func tailOf(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const window = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > window {
		f.Seek(st.Size()-window, io.SeekStart)
	}
	data, _ := io.ReadAll(io.LimitReader(f, window))
	return safetext.Tail(string(data), n)
}

// prepare writes the job's inputs into its folder, from the store.
func (l *Local) prepare(work string, job *Job) error {
	if err := toolchain.WriteEnv(work, job.Env); err != nil {
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
// They are the job's: each is read only if it is a regular file reached
// without a link. Whether each is one its spec declared, named by its
// header, is readback.Checked's to judge, for any executor.
func (l *Local) collect(box *sandbox.Box, job *Job) ([]Output, error) {
	files, err := box.Find("top/RPMS", 2, ".rpm")
	if err != nil {
		return nil, &Error{Job: job.ID, Msg: "reading the built RPMs back: " + err.Error(), Err: err}
	}
	if len(files) == 0 {
		return nil, &Error{Job: job.ID, Msg: "rpmbuild wrote no RPM"}
	}
	var outs []Output
	for _, f := range files {
		data, err := box.ReadFile(f, box.Limits().Disk)
		if err != nil {
			return nil, &Error{Job: job.ID, Msg: "reading the built RPMs back: " + err.Error(), Err: err}
		}
		o, err := output(job, path.Base(f), data)
		if err != nil {
			return nil, err
		}
		if _, err := l.Store.Put(data); err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	return outs, nil
}

// stampAt reads one of the script's time stamps: 0 if it has none.
func stampAt(box *sandbox.Box, name string) int64 {
	data, _ := box.ReadFile(".t-"+name, maxStamp)
	n, _ := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	return n
}

// between reads two of the script's time stamps.
func between(box *sandbox.Box, from, to string) time.Duration {
	a, b := stampAt(box, from), stampAt(box, to)
	if a == 0 || b < a {
		return 0
	}
	return time.Duration(b - a)
}
