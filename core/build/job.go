// Package build runs the plan's jobs: one rpmbuild --rebuild per (package,
// arch), sandboxed, with its batch BuildRequires installed into a private
// sysroot, cached by a key over every input, through an Executor so that
// the same plain-data jobs can later run on other machines.
package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"time"

	"github.com/quarrylinux/quarry/core/toolchain"
)

// Input is a file a job reads, by content.
type Input struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// Job is one build, as plain data: everything it reads is named by hash,
// so its Key identifies its output and any executor can run it.
type Job struct {
	ID      string `json:"id"`
	Package string `json:"package"`
	Arch    string `json:"arch"`
	SRPM    Input  `json:"srpm"`
	// Buildroot lists the batch's RPMs installed before the build.
	Buildroot []Input       `json:"buildroot,omitempty"`
	Env       toolchain.Env `json:"env"`
}

const keyVersion = "quarry-build-v1"

// Key hashes everything that determines the job's output.
func (j *Job) Key() string {
	k := struct {
		V         string        `json:"v"`
		Arch      string        `json:"arch"`
		SRPM      string        `json:"srpm"`
		Buildroot []string      `json:"buildroot"`
		Env       toolchain.Env `json:"env"`
	}{V: keyVersion, Arch: j.Arch, SRPM: j.SRPM.SHA256, Env: j.Env}
	for _, b := range j.Buildroot {
		k.Buildroot = append(k.Buildroot, b.SHA256)
	}
	data, _ := json.Marshal(k)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Output is one RPM a job wrote.
type Output struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Name   string `json:"name"`
	Arch   string `json:"arch"`
	EVR    string `json:"evr"`
}

// Record is what a finished job leaves: its inputs, the exact command, the
// toolchain, its times, its log and its outputs. It feeds provenance.
type Record struct {
	Key     string   `json:"key"`
	Job     Job      `json:"job"`
	Command []string `json:"command"`
	// Setup are the commands that ran before it, in the same sandbox:
	// the BuildRequires installed into the buildroot.
	Setup [][]string `json:"setup,omitempty"`
	Start time.Time  `json:"start"`
	End   time.Time  `json:"end"`
	// Log is the build log's sha256 in the store.
	Log     string   `json:"log"`
	Outputs []Output `json:"outputs"`
	// RPMBuild is the time rpmbuild itself took; the rest of Duration is
	// the sandbox's and the buildroot's overhead.
	RPMBuild time.Duration `json:"rpmbuild_ns"`
}

// Duration is how long the job ran.
func (r *Record) Duration() time.Duration { return r.End.Sub(r.Start) }

// Executor runs jobs. The local pool is the embedded default; a
// distributed engine implements the same interface.
type Executor interface {
	// Run builds the job, streaming its log to log, and returns its record
	// with every output already in the store.
	Run(ctx context.Context, job *Job, log io.Writer) (*Record, error)
}
