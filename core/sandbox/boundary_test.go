package sandbox

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLimitsNameThemselves: each limit, hit, is a *LimitError that says
// which limit, its value as the config writes it and the setting that
// raises it (here a plugin's, plugins.limits); a run within its limits
// succeeds, and one that merely fails is no limit.
func TestLimitsNameThemselves(t *testing.T) {
	for _, c := range []struct {
		limits Limits
		script string
		want   string
	}{
		{Limits{Time: 500 * time.Millisecond}, "while :; do :; done",
			"ran longer than its time limit (500ms): raise plugins.limits.time in quarry.yaml if it really needs more"},
		{Limits{Procs: 32}, "for i in $(seq 500); do sleep 60 & done; wait",
			"hit its process limit (32): raise plugins.limits.processes in quarry.yaml if it really needs more"},
		{Limits{Disk: 16 << 20}, "head -c 100000000 /dev/zero > /build/big",
			"filled its disk limit (16MiB): raise plugins.limits.disk in quarry.yaml if it really needs more"},
		{Limits{Log: 64 << 10}, "yes 'a plugin that will not stop talking'",
			"wrote more output than its log limit (64KiB): raise plugins.limits.log in quarry.yaml if it really needs more"},
	} {
		c.limits.Setting = "plugins.limits"
		b := open(t, c.limits)
		out, err := run(t, b, c.script)
		var le *LimitError
		if !errors.As(err, &le) || err.Error() != c.want {
			t.Errorf("%q: got %v\nwant %s", c.script, err, c.want)
		}
		if len(out) > 64<<10 {
			t.Errorf("%q: %d bytes of output passed on", c.script, len(out))
		}
		// The same box, within its limits, runs again: a limit hit is
		// the run's, not the box's.
		if out, err := run(t, b, "rm -f /build/big; echo fine; head -c 1000 /dev/zero > /build/small"); err != nil || out != "fine\n" {
			t.Errorf("%q, then a small run: %v %q", c.script, err, out)
		}
	}
	b := open(t, Limits{})
	_, err := run(t, b, "echo 'No space left on device (it says)'; exit 3")
	if err == nil || IsLimit(err) || err.Error() != "sh: exit status 3" {
		t.Errorf("a run that fails on its own: %v, want sh: exit status 3 and no limit", err)
	}
}

// TestNoNetwork: a sandbox has a loopback of its own and nothing else:
// the host's TCP listener on 127.0.0.1 and its abstract unix socket are
// not reachable, and nothing connects to them.
func TestNoNetwork(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	abstract := fmt.Sprintf("@quarry-sandbox-test-%d", os.Getpid())
	unix, err := net.Listen("unix", abstract)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close()
	port := tcp.Addr().(*net.TCPAddr).Port
	b := open(t, Limits{})
	out, err := run(t, b, fmt.Sprintf(`
sed 1,2d /proc/net/dev | cut -d: -f1 | tr -d ' '
bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d' 2>/dev/null && echo TCP-CONNECTED
perl -MSocket -e 'socket(S, PF_UNIX, SOCK_STREAM, 0) or die; connect(S, pack_sockaddr_un("\0%s")) and print "UNIX-CONNECTED\n"'
true`, port, abstract[1:]))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.TrimSpace(out) != "lo" {
		t.Errorf("the sandbox sees interfaces or reached the host:\n%s", out)
	}
	// Nothing is waiting to be accepted: a deadline already passed
	// returns at once.
	for name, l := range map[string]net.Listener{"tcp": tcp, "unix": unix} {
		switch l := l.(type) {
		case *net.TCPListener:
			l.SetDeadline(time.Now())
		case *net.UnixListener:
			l.SetDeadline(time.Now())
		}
		if c, err := l.Accept(); err == nil {
			c.Close()
			t.Errorf("the host's %s listener took a connection from the sandbox", name)
		}
	}
}

// TestHostStateInvisible: nothing of the host's process shows inside: not
// its environment, its processes, its descriptors (not even one it was
// started with, without close-on-exec, as a make jobserver's pipe is),
// its files outside /usr and /etc, its SysV shared memory, or its
// devices.
func TestHostStateInvisible(t *testing.T) {
	t.Setenv("QUARRY_TEST_SECRET", "hunter2")
	hostDir := t.TempDir()
	secret := filepath.Join(hostDir, "secret")
	if err := os.WriteFile(secret, []byte("hunter2"), 0o644); err != nil {
		t.Fatal(err)
	}
	// As a parent leaves one open: no O_CLOEXEC.
	fd, err := syscall.Open(secret, syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	shm, err := exec.Command("ipcmk", "-M", "4096").Output()
	if err != nil {
		t.Fatal(err)
	}
	shmID := strings.TrimSpace(strings.TrimPrefix(string(shm), "Shared memory id:"))
	defer exec.Command("ipcrm", "-m", shmID).Run()

	b := open(t, Limits{})
	b.Env = []string{"GIVEN=1"}
	out, err := run(t, b, `
echo ENV; env | cut -d= -f1 | sort
echo PROCS; cat /proc/[0-9]*/comm
echo FDS; for f in /proc/$$/fd/*; do readlink $f; done
echo ROOT; ls /
echo IPC; ipcs -m | awk 'NR > 3 && NF'
echo DEVS; find /dev -type b -o -type c | sort
echo FILES; cat `+secret+` 2>&1; ls `+hostDir+` 2>&1; ls /root /home /var /run /work 2>&1
true`)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("a host secret is visible inside:\n%s", out)
	}
	// The output's parts, by their headings.
	parts := map[string][]string{}
	heading := ""
	for _, l := range strings.Split(out, "\n") {
		switch {
		case slices.Contains([]string{"ENV", "PROCS", "FDS", "ROOT", "IPC", "DEVS", "FILES"}, l):
			heading = l
		case l != "":
			parts[heading] = append(parts[heading], l)
		}
	}
	part := func(name string) []string { return parts[name] }
	if env := part("ENV"); !slices.Equal(env, []string{"GIVEN", "HOME", "LANG", "PATH", "PWD", "TMPDIR"}) {
		t.Errorf("the environment inside is %v", env)
	}
	// bwrap (the pid namespace's first) and the shell (cat is not yet
	// when its arguments are listed).
	if procs := part("PROCS"); !slices.Equal(procs, []string{"bwrap", "sh"}) {
		t.Errorf("the processes visible inside: %v", procs)
	}
	// The shell's: stdin (/dev/null), and the host's one pipe for stdout
	// and stderr.
	if fds := part("FDS"); len(fds) != 3 || fds[0] != "/dev/null" || !strings.HasPrefix(fds[1], "pipe:") || fds[2] != fds[1] {
		t.Errorf("descriptors inside: %v (the host's were inherited)", fds)
	}
	if root := part("ROOT"); !slices.Equal(root, []string{"bin", "build", "dev", "etc", "lib", "lib64", "proc", "sbin", "tmp", "usr"}) {
		t.Errorf("/ inside holds %v", root)
	}
	if ipc := part("IPC"); len(ipc) > 0 {
		t.Errorf("the host's shared memory is visible: %v", ipc)
	}
	for _, d := range part("DEVS") {
		if !slices.Contains([]string{"/dev/full", "/dev/null", "/dev/ptmx", "/dev/random", "/dev/tty", "/dev/urandom", "/dev/zero", "/dev/pts/ptmx"}, d) {
			t.Errorf("a device inside: %s", d)
		}
	}
	files := strings.Join(part("FILES"), "\n")
	for _, p := range []string{secret, hostDir, "/root", "/home", "/var", "/run", "/work"} {
		if !strings.Contains(files, p+"': No such file or directory") && !strings.Contains(files, p+": No such file or directory") {
			t.Errorf("%s is there inside:\n%s", p, files)
		}
	}
}

// TestClosingFollowsNoLink: what a job leaves in its folder, /tmp and
// /dev/shm (links to host folders and files, a folder of links) goes with
// the box, and nothing they point to on the host is touched; ReadFile
// refuses each.
func TestClosingFollowsNoLink(t *testing.T) {
	host := t.TempDir()
	keep := filepath.Join(host, "keep")
	if err := os.MkdirAll(filepath.Join(keep, "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a", "deep/b"} {
		os.WriteFile(filepath.Join(keep, f), []byte("host"), 0o644)
	}
	b, err := Open(Limits{})
	if err != nil {
		t.Fatal(err)
	}
	disk := b.disk()
	out, err := run(t, b, `
ln -s `+keep+` /build/dir; ln -s `+keep+`/a /build/file
mkdir /build/links; ln -s `+keep+`/deep /build/links/deep; ln -s / /build/links/root
ln -s `+keep+` /tmp/dir; ln -s `+keep+`/a /dev/shm/file
ln `+keep+`/a /build/hard 2>/dev/null && echo HARDLINKED
true`)
	if err != nil {
		b.Close()
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(out, "HARDLINKED") {
		t.Errorf("the job hard-linked a host file into its folder")
	}
	for _, rel := range []string{"dir/a", "file", "links/deep/b", "links/root/etc/passwd"} {
		if data, err := b.ReadFile(rel, 1<<20); !errors.Is(err, ErrUnsafe) {
			t.Errorf("ReadFile %s: %q, %v; want refused", rel, data, err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a", "deep/b"} {
		if data, err := os.ReadFile(filepath.Join(keep, f)); err != nil || string(data) != "host" {
			t.Errorf("after Close, the host's %s: %q %v", f, data, err)
		}
	}
	if _, err := os.Lstat(disk); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the box's folder outlived Close: %v", err)
	}
}
