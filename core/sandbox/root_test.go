package sandbox_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// rootBox is a box with img as its root, closed when the test ends.
func rootBox(t *testing.T, img *fixtures.Image, disk int64) *sandbox.Box {
	t.Helper()
	b, err := sandbox.Open(sandbox.Limits{Disk: disk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.UseRoot(img.Root); err != nil {
		t.Fatal(err)
	}
	return b
}

func runIn(t *testing.T, b *sandbox.Box, script string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := b.Run(context.Background(), &out, "sh", "-c", script)
	return out.String(), err
}

// TestRootIsTheImage: inside a root, / is the image's (not the host's),
// the namespace's root may write to it, the build user may not, and the
// image itself never changes.
func TestRootIsTheImage(t *testing.T) {
	img := fixtures.Buildroot(t, "x86_64")
	b := rootBox(t, img, 256<<20)
	if err := b.RunAs(sandbox.BuildUser); err != nil {
		t.Fatal(err)
	}
	b.Owner = sandbox.BuildUser
	os.WriteFile(filepath.Join(b.Dir(), "input"), []byte("x"), 0o644)
	b.Caps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER"}
	// The build user: its own folder is writable, the image's / is not.
	out, err := runIn(t, b, `id -u; test -f /etc/quarry-buildroot.manifest && echo image; echo hi > /build/output && cat /build/input;
		touch /usr/bin/planted 2>/dev/null && echo wrote-usr; test -w / || echo ro-root; ls -A /build;
		unshare -U true 2>/dev/null && echo made-userns; unshare -r true 2>/dev/null && echo made-root; true`)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if want := "1000\nimage\nxro-root\ninput\noutput\n"; out != want {
		t.Fatalf("as the build user: got %q, want %q", out, want)
	}
	// Its root: installs into /usr, as rpm -i does.
	b.RunAs(0)
	out, err = runIn(t, b, `id -u; echo planted > /usr/bin/planted && cat /usr/bin/planted; cat /build/output`)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if out != "0\nplanted\nhi\n" {
		t.Fatalf("as root: got %q", out)
	}
	if _, err := os.Stat(filepath.Join(img.Root, "usr/bin/planted")); err == nil {
		t.Fatal("the job's write reached the image")
	}
	// Nothing of the host: its Go, its Quarry state, its /etc.
	out, _ = runIn(t, b, `ls /usr/local/go /work /var/cache/quarry 2>&1; cat /etc/hostname`)
	if !strings.HasSuffix(out, "buildroot\n") || strings.Contains(out, "bin") {
		t.Fatalf("the host shows through: %q", out)
	}
	// Closed, the box leaves no mount behind (of its own: other tests'
	// boxes may be mounted meanwhile, in this slot too).
	slot := filepath.Dir(filepath.Dir(b.Dir()))
	ours := mountsOf(t, slot)
	if len(ours) != 3 {
		t.Fatalf("the box has %d mounts, want its folder, the image and the root: %v", len(ours), ours)
	}
	b.Close()
	for line := range mountsOf(t, slot) {
		if ours[line] {
			t.Errorf("still mounted after Close: %s", line)
		}
	}
}

// mountsOf are the mount IDs and points of mounts under dir.
func mountsOf(t *testing.T, dir string) map[string]bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			out[f[0]+" "+f[4]] = true
		}
	}
	return out
}

// TestAttackRunPlantsTheNextRunsMounts: the runs of one box share its
// folder (a root's install phase, then its build). bwrap finds what it
// binds at /tmp and /dev/shm, and where it hides the root's writable
// layer, by their paths in that folder, so a run that puts a link there
// (or moves the folder that holds them) chooses what the next run
// mounts: a host folder at /tmp, the overlay's upper layer in plain
// sight. Nothing of the host may show in any run, whatever an earlier
// one left, nor the layer but through the root.
func TestAttackRunPlantsTheNextRunsMounts(t *testing.T) {
	host := t.TempDir()
	os.Chmod(host, 0o755)
	os.Chmod(filepath.Dir(host), 0o755)
	os.WriteFile(filepath.Join(host, "host-secret"), []byte("host\n"), 0o644)
	img := fixtures.Buildroot(t, "x86_64")
	// What the first run does, as the namespace's root (an RPM scriptlet
	// of the install phase): each folder of /build that backs a mount is
	// swapped for a link to the host folder; or the folder holding them
	// is moved aside.
	plants := map[string]string{
		// Each folder of the box's tmpfs that backs a mount (mountinfo
		// names its path in the tmpfs), if the job's folder holds it.
		"link": `set -- $(awk '$5 == "/build" {print $3, $4}' /proc/self/mountinfo); dev=$1; top=${2%/}
			for r in $(awk -v dev=$dev '$3 == dev && $5 != "/build" {print $4}' /proc/self/mountinfo); do
				case "$r" in "$top"/*) p="/build${r#$top}"; mv "$p" "$p.old" && ln -s ` + host + ` "$p";; esac
			done`,
		// The folder that held them, in the layout this test was written
		// against.
		"move": `mv /build/.sandbox /build/aside && mkdir -m 1777 -p /build/.sandbox/tmp /build/.sandbox/shm && chown 1000:1000 /build/.sandbox`,
	}
	for _, withRoot := range []bool{false, true} {
		for name, plant := range plants {
			b, err := sandbox.Open(sandbox.Limits{Disk: 64 << 20})
			if err != nil {
				t.Fatal(err)
			}
			if withRoot {
				if err := b.UseRoot(img.Root); err != nil {
					t.Fatal(err)
				}
			}
			b.Owner = sandbox.BuildUser
			b.Caps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_SETFCAP", "CAP_SYS_CHROOT"}
			out, err := runIn(t, b, "echo upper > /var/tmp/upper-marker 2>/dev/null; "+plant+" 2>/dev/null; true")
			if err != nil {
				t.Fatalf("root %v, %s: the planting run: %v: %s", withRoot, name, err, out)
			}
			b.RunAs(sandbox.BuildUser)
			out, err = runIn(t, b, `cat /tmp/host-secret /dev/shm/host-secret 2>/dev/null
				find /build -name upper-marker 2>/dev/null; true`)
			t.Logf("root %v, %s: the next run: %v: %q", withRoot, name, err, out)
			if strings.Contains(out, "host") {
				t.Errorf("root %v, %s: a later run sees the host folder an earlier one linked in: %q", withRoot, name, out)
			}
			if strings.Contains(out, "upper-marker") {
				t.Errorf("root %v, %s: a later run sees the root's writable layer: %q", withRoot, name, out)
			}
			b.Close()
		}
	}
}

// TestAttackHostUsersReachTheJobsRoot: the box's root (the overlay, and
// the image's view under it) is mounted in the box's slot, whose path is
// open to anyone so that bwrap can reach what it binds: a host user, or
// another box's job, would read what the job installed and write into
// its 1777 folders (/var/tmp), which the job then runs with.
func TestAttackHostUsersReachTheJobsRoot(t *testing.T) {
	img := fixtures.Buildroot(t, "x86_64")
	b := rootBox(t, img, 64<<20)
	b.Owner = sandbox.BuildUser
	b.Caps = []string{"CAP_DAC_OVERRIDE"}
	if out, err := runIn(t, b, "echo installed > /var/tmp/installed"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	slot := filepath.Dir(filepath.Dir(b.Dir()))
	var mounts []string
	for line := range mountsOf(t, slot) {
		mounts = append(mounts, strings.Fields(line)[1])
	}
	for _, m := range mounts {
		for _, uid := range []uint32{65534, sandbox.IDBase + 4000*sandbox.IDs - 1} {
			// Another user of the host, an id of another slot's.
			cmd := exec.Command("sh", "-c", "ls "+m+"/var/tmp 2>&1; echo planted > "+m+"/var/tmp/planted 2>&1")
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}}
			out, _ := cmd.CombinedOutput()
			if strings.Contains(string(out), "installed") {
				t.Errorf("host uid %d reads the job's root at %s: %s", uid, m, out)
			}
			if _, err := os.Stat(filepath.Join(m, "var/tmp/planted")); err == nil {
				t.Errorf("host uid %d wrote into the job's root at %s", uid, m)
				os.Remove(filepath.Join(m, "var/tmp/planted"))
			}
		}
	}
	b.RunAs(sandbox.BuildUser)
	b.Caps = nil
	if out, err := runIn(t, b, "cat /var/tmp/installed; ls /var/tmp"); err != nil || out != "installed\ninstalled\n" {
		t.Errorf("the next run: %v: %q", err, out)
	}
}

// TestRootMountsAreNosuidNodev: the install phase's root (with the file
// capabilities rpm needs, CAP_MKNOD not among them) makes no device
// node, in its folder or in its /, and both are nosuid and nodev inside,
// so that nothing it leaves there is a way back to its powers, or the
// host's devices, for a later run.
func TestRootMountsAreNosuidNodev(t *testing.T) {
	img := fixtures.Buildroot(t, "x86_64")
	b := rootBox(t, img, 64<<20)
	b.Caps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_SETFCAP", "CAP_SYS_CHROOT"}
	out, err := runIn(t, b, `for p in /build/null /null /tmp/null; do mknod $p c 1 3 2>/dev/null && echo made $p; done
		awk '$5 == "/" || $5 == "/build" || $5 == "/tmp" {print $5, $6}' /proc/self/mountinfo`)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if strings.Contains(out, "made") {
		t.Errorf("a device node was made: %s", out)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		seen++
		opts := "," + f[1] + ","
		if !strings.Contains(opts, ",nosuid,") || !strings.Contains(opts, ",nodev,") {
			t.Errorf("%s is mounted %s inside: not nosuid and nodev", f[0], f[1])
		}
	}
	if seen < 3 {
		t.Errorf("mountinfo shows %d of /, /build and /tmp: %s", seen, out)
	}
}
