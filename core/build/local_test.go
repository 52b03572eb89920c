package build

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/toolchain"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

const failingSpec = `Name: failing
Version: 1.0
Release: 1
Summary: Fails after leaving a setuid file
License: MIT
BuildArch: noarch
%description
Fails.
%build
echo the reason it fails
cp /usr/bin/true suid && chmod 4755 suid
exit 1
%files
`

// --keep-failed keeps a failed job's folder and its log, says where, and
// brings none of the job's modes onto the host.
func TestKeepFailed(t *testing.T) {
	st, _ := store.Open(t.TempDir())
	env, err := toolchain.NewEnv(config.Distribution{Name: "pebble", DistTag: ".pbl9", Version: "9.4"}, "noarch")
	if err != nil {
		t.Fatal(err)
	}
	srpm, err := fixtures.BuildSRPM(t.TempDir(), "failing", failingSpec)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(srpm)
	d, _ := st.Put(data)
	work := filepath.Join(t.TempDir(), "work")
	exec := &Local{Store: st, Work: work, Keep: true}
	job := &Job{ID: "failing/noarch", Package: "failing", Arch: "noarch", SRPM: Input{Name: filepath.Base(srpm), SHA256: d}, Env: env}
	_, err = exec.Run(context.Background(), job, nil)
	kept := filepath.Join(work, "failing@noarch")
	if err == nil || !strings.Contains(err.Error(), "kept in "+kept) {
		t.Fatalf("got %v, want the kept folder named", err)
	}
	if log, _ := os.ReadFile(filepath.Join(kept, "build.log")); !strings.Contains(string(log), "the reason it fails") {
		t.Errorf("the kept build.log: %q", log)
	}
	suid, _ := filepath.Glob(filepath.Join(kept, "top", "BUILD", "*", "suid"))
	if len(suid) == 0 {
		suid, _ = filepath.Glob(filepath.Join(kept, "top", "BUILD", "suid"))
	}
	for _, f := range suid {
		if st, err := os.Stat(f); err == nil && st.Mode()&os.ModeSetuid != 0 {
			t.Errorf("%s kept its setuid bit", f)
		}
	}
	if len(suid) == 0 {
		t.Error("the job's file was not kept")
	}
}
