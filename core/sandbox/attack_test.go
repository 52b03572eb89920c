package sandbox_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/plugins"
)

func attackBox(t *testing.T, l sandbox.Limits) *sandbox.Box {
	t.Helper()
	b, err := sandbox.Open(l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestAttackDiskLimitAroundTheFolder: the disk limit is the size of the
// /build tmpfs, but /tmp (bwrap's --tmpfs) and /dev/shm (on bwrap's /dev
// tmpfs) are writable too, each up to half the host's memory. A job
// with a 32 MiB limit writes 256 MiB into each and succeeds: the limit
// bounds nothing, and two such jobs fill the host's RAM.
func TestAttackDiskLimitAroundTheFolder(t *testing.T) {
	for _, dir := range []string{"/tmp", "/dev/shm"} {
		b := attackBox(t, sandbox.Limits{Disk: 32 << 20})
		var out bytes.Buffer
		err := b.Run(context.Background(), &out, "sh", "-c",
			"head -c 268435456 /dev/zero > "+dir+"/big && du -m "+dir+"/big | cut -f1")
		if err == nil || !sandbox.IsLimit(err) {
			t.Errorf("a job with a 32MiB disk limit wrote %s MiB to %s (run error: %v)", strings.TrimSpace(out.String()), dir, err)
		}
	}
}

// TestAttackProcessLimitAcrossUIDs: the process limit is RLIMIT_NPROC,
// counted per uid. A plugin that builds installers keeps CAP_SETUID
// (plugins.InstallerCaps), and its namespace maps 65536 uids: 64
// processes per uid, for every uid, is millions.
func TestAttackProcessLimitAcrossUIDs(t *testing.T) {
	b := attackBox(t, sandbox.Limits{Procs: 64})
	b.Caps = plugins.InstallerCaps
	var out bytes.Buffer
	err := b.Run(context.Background(), &out, "sh", "-c", `
for u in $(seq 1 10); do for i in $(seq 20); do setpriv --reuid=$u sleep 30 2>/dev/null & done; done
echo running $(ls /proc | grep -c '^[0-9]')
kill -9 -1 2>/dev/null; true`)
	n := 0
	for _, line := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "running "); ok {
			n, _ = strconv.Atoi(v)
		}
	}
	if n > 64 {
		t.Errorf("%d processes ran at once in a box limited to 64 (run error: %v)", n, err)
	}
}
