package build

import (
	"fmt"
	"path"
	"strings"

	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/core/safetext"
	"github.com/quarrylinux/quarry/core/store"
)

// output reads one RPM a job wrote: its header (verified by rpmfile),
// its ELF files against the job's arch, and what it is named by.
func output(job *Job, name string, data []byte) (Output, error) {
	rpm, err := rpmfile.Read(name, data)
	if err != nil {
		return Output{}, &Error{Job: job.ID, Msg: err.Error()}
	}
	if err := checkELF(name, rpm, job.Arch); err != nil {
		return Output{}, &Error{Job: job.ID, Msg: "wrong architecture: " + err.Error()}
	}
	evr := rpm.Version() + "-" + rpm.Release()
	if rpm.Epoch() > 0 {
		evr = fmt.Sprintf("%d:%s", rpm.Epoch(), evr)
	}
	return Output{File: name, SHA256: store.Digest(data), Name: rpm.Name(), Arch: rpm.Architecture(), EVR: evr}, nil
}

// CheckOutputs runs on outputs that another machine built (already in
// st, by digest) the checks the local executor runs on its own: each is
// an RPM whose header reads, whose ELF files are the job's arch, named
// by a plain file name, and whose name, arch and EVR are its header's
// (a dependent job installs an output by its name). Whether each is one
// the spec declared is readback.Checked's to judge, for any executor.
func CheckOutputs(st *store.Store, job *Job, outs []Output) error {
	if len(outs) == 0 {
		return &Error{Job: job.ID, Msg: "rpmbuild wrote no RPM"}
	}
	seen := map[string]bool{}
	for _, o := range outs {
		if o.File != path.Base(o.File) || o.File == "." || o.File == ".." || !strings.HasSuffix(o.File, ".rpm") ||
			strings.ContainsAny(o.File, "\n\t") || safetext.Terminal(o.File) != o.File || seen[o.File] {
			return &Error{Job: job.ID, Msg: fmt.Sprintf("output %q: not a plain RPM file name, once", safetext.Terminal(o.File))}
		}
		seen[o.File] = true
		data, err := st.Get(o.SHA256)
		if err != nil {
			return &Error{Job: job.ID, Msg: fmt.Sprintf("output %s: %v", o.File, err), Err: err}
		}
		got, err := output(job, o.File, data)
		if err != nil {
			return err
		}
		if got != o {
			return &Error{Job: job.ID, Msg: fmt.Sprintf("output %s: the record says %s %s %s, its header %s %s %s",
				o.File, safetext.Terminal(o.Name), safetext.Terminal(o.Arch), safetext.Terminal(o.EVR), got.Name, got.Arch, got.EVR)}
		}
	}
	return nil
}
