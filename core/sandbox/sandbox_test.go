package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func open(t *testing.T, l Limits) *Box {
	t.Helper()
	b, err := Open(l)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func run(t *testing.T, b *Box, script string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := b.Run(context.Background(), &out, "sh", "-c", script)
	return out.String(), err
}

func wantLimit(t *testing.T, err error, limit string) {
	t.Helper()
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != limit {
		t.Fatalf("got %v, want the %s limit", err, limit)
	}
	if msg := err.Error(); !strings.Contains(msg, "build.limits."+limit) {
		t.Errorf("the message %q does not say how to raise the limit", msg)
	}
}

// A job runs as an unprivileged host uid of its own: host root's secrets
// are unreadable, what it writes is owned by that uid, and it has no
// network and no capabilities.
func TestRunsUnprivileged(t *testing.T) {
	secret := filepath.Join("/etc", "quarry-test-secret-"+strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(secret, []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(secret)
	b := open(t, Limits{})
	out, err := run(t, b, `
cat /etc/shadow >/dev/null 2>&1 && echo READ-SHADOW
cat `+secret+` >/dev/null 2>&1 && echo READ-SECRET
echo x > /build/made
grep CapEff /proc/self/status
cat /proc/self/uid_map
ping -c1 -W1 127.0.0.1 >/dev/null 2>&1 && echo NETWORK
touch /usr/bin/quarry-test 2>/dev/null && echo WROTE-USR
true`)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, bad := range []string{"READ-SHADOW", "READ-SECRET", "NETWORK", "WROTE-USR"} {
		if strings.Contains(out, bad) {
			t.Errorf("the sandbox could do %s:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "CapEff:\t0000000000000000") {
		t.Errorf("the job kept capabilities:\n%s", out)
	}
	if !strings.Contains(out, strconv.Itoa(b.UID())) {
		t.Errorf("uid_map does not map to the box's range %d:\n%s", b.UID(), out)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(filepath.Join(b.Dir(), "made"), &st); err != nil {
		t.Fatal(err)
	}
	if int(st.Uid) != b.UID() || st.Uid == 0 {
		t.Errorf("the job's file is owned by host uid %d, want %d", st.Uid, b.UID())
	}
}

// Two boxes at once never share an id range.
func TestBoxesHaveTheirOwnIDs(t *testing.T) {
	a, b := open(t, Limits{}), open(t, Limits{})
	if a.UID() == b.UID() {
		t.Fatalf("two boxes share uid %d", a.UID())
	}
}

func TestTimeLimit(t *testing.T) {
	b := open(t, Limits{Time: time.Second})
	_, err := run(t, b, "while :; do :; done")
	wantLimit(t, err, "time")
}

// A fork bomb stops at the process limit; its children die with it.
func TestProcessLimit(t *testing.T) {
	b := open(t, Limits{Procs: 64})
	_, err := run(t, b, "for i in $(seq 1500); do sleep 60 & done; wait")
	wantLimit(t, err, "processes")
}

func TestDiskLimit(t *testing.T) {
	b := open(t, Limits{Disk: 32 << 20})
	_, err := run(t, b, "head -c 2000000000 /dev/zero > /build/big")
	wantLimit(t, err, "disk")
}

func TestLogLimit(t *testing.T) {
	b := open(t, Limits{Log: 1 << 20})
	out, err := run(t, b, "yes 'a line of a runaway log'")
	wantLimit(t, err, "log")
	if len(out) > 1<<20 {
		t.Errorf("%d bytes of log passed the 1 MiB limit", len(out))
	}
}

// Everything a job leaves is read back without following it anywhere.
func TestReadBackRefusesWhatAJobPlanted(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "core.key")
	os.WriteFile(outside, []byte("PRIVATE"), 0o600)
	b := open(t, Limits{})
	if out, err := run(t, b, `
mkdir -p RPMS/x86_64 RPMS/linked
echo ok > RPMS/x86_64/good.rpm
ln -s `+outside+` build.log
ln -s `+outside+` RPMS/x86_64/evil.rpm
ln -s `+filepath.Dir(outside)+` RPMS/dirlink
mkfifo fifo
head -c 2048 /dev/zero > big`); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if data, err := b.ReadFile("RPMS/x86_64/good.rpm", 100); err != nil || string(data) != "ok\n" {
		t.Fatalf("good file: %q %v", data, err)
	}
	for rel, why := range map[string]string{
		"build.log":                             "symbolic link",
		"RPMS/dirlink/core.key":                 "symbolic link",
		"fifo":                                  "not a regular file",
		"big":                                   "over the limit",
		"../" + filepath.Base(b.Dir()) + "/big": "not a path inside",
		"/etc/passwd":                           "not a path inside",
	} {
		data, err := b.ReadFile(rel, 1024)
		if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: got %q, %v; want refused: %s", rel, data, err, why)
		}
	}
	if _, err := b.Find("RPMS", 2, ".rpm"); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "RPMS/") {
		t.Errorf("Find through planted links: %v, want refused naming the link", err)
	}
}

// A run killed before it closed its box leaves its slot's folders
// mounted; whoever takes the slot next (or SweepSlots) takes them down.
func TestSweepUnmountsLeftovers(t *testing.T) {
	// Slots of its own: other test processes use the machine's.
	private := fmt.Sprintf("/run/quarry-sandbox-test-%d", os.Getpid())
	defer func(roots []string) { slotRoots = roots; os.RemoveAll(private) }(slotRoots)
	slotRoots = []string{private}
	b, err := Open(Limits{})
	if err != nil {
		t.Fatal(err)
	}
	b.ReadOnly = []string{t.TempDir()}
	if _, err := run(t, b, "mkdir -p a/b && echo x > a/b/c"); err != nil {
		t.Fatal(err)
	}
	dir := b.slot.dir
	b.slot.lock.Close() // the process "died": its lock and claim are gone, its mounts are not
	b.slot.claim.Close()
	if m, _ := Leftovers(); len(m) != 2 {
		t.Fatalf("left over: %v, want the folder and one bind under %s", m, dir)
	}
	if err := SweepSlots(); err != nil {
		t.Fatal(err)
	}
	if m, _ := mountsUnder(dir); len(m) > 0 {
		t.Fatalf("still mounted: %v", m)
	}
	if m, _ := Leftovers(); len(m) > 0 {
		t.Fatalf("still left over: %v", m)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the slot folder is still there: %v", err)
	}
}

// What a box binds is the box's to read: another user of the host cannot
// walk into the slot's bind points, however open the slot's path is.
func TestBindsAreTheBoxsAlone(t *testing.T) {
	private := t.TempDir() // 0700, root's
	os.WriteFile(filepath.Join(private, "blob"), []byte("store content"), 0o644)
	b := open(t, Limits{})
	b.ReadOnly = []string{private}
	if out, err := run(t, b, "cat "+private+"/blob"); err != nil || !strings.Contains(out, "store content") {
		t.Fatalf("the box cannot read its bind: %v %s", err, out)
	}
	points, _ := filepath.Glob(filepath.Join(b.slot.dir, "binds", "*"))
	if len(points) != 1 {
		t.Fatalf("bind points %v", points)
	}
	ls := exec.Command("cat", filepath.Join(points[0], "blob"))
	ls.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := ls.CombinedOutput(); err == nil {
		t.Errorf("nobody read the box's bind point %s: %s", points[0], out)
	}
}

// A sandbox drops the host's supplementary groups: run from a process in
// group root (as sudo leaves one), it still cannot read what only that
// group may.
func TestNoSupplementaryGroups(t *testing.T) {
	orig, err := syscall.Getgroups()
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setgroups([]int{0, 42}); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setgroups(orig)
	secret := filepath.Join("/etc", "quarry-test-group-"+strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(secret, []byte("group root only"), 0o640); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(secret)
	b := open(t, Limits{})
	out, err := run(t, b, "grep Groups /proc/self/status; cat "+secret+" 2>&1 || true")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "group root only") {
		t.Errorf("the sandbox read a 0640 root:root file through the host's groups:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^Groups:\s*$`).MatchString(out) {
		t.Errorf("the sandbox kept supplementary groups:\n%s", out)
	}
}

// A sparse file costs a job nothing and the host its size in memory: it
// is refused.
func TestReadBackRefusesSparseFiles(t *testing.T) {
	b := open(t, Limits{})
	if out, err := run(t, b, "truncate -s 4G holes.rpm; printf x > small"); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	if _, err := b.ReadFile("holes.rpm", 8<<30); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "sparse") {
		t.Errorf("a 4 GiB sparse file: %v", err)
	}
	if data, err := b.ReadFile("small", 10); err != nil || string(data) != "x" {
		t.Errorf("small: %q %v", data, err)
	}
}
