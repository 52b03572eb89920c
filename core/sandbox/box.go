package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Box is one sandbox: a folder (a tmpfs of its own), the id range it runs
// as, and its limits. The host writes the inputs into Dir, runs commands,
// reads the outputs back with ReadFile and Find, and closes the box, which
// unmounts and removes everything.
type Box struct {
	// Env is the environment inside, beyond PATH, HOME, LANG and TMPDIR.
	Env []string
	// ReadOnly and Writable are further host paths, bound at the same
	// path inside (a plugin's binary, its socket folder, a composed tree).
	// Each must be readable (and Writable ones writable) by the box's ids
	// itself; the folders above it need not be.
	ReadOnly []string
	Writable []string
	// Caps are the capabilities kept inside the namespace: none unless
	// asked (CAP_SYS_CHROOT for rpm --root in a build, a few file ones for
	// a plugin that installs an image with dnf). They are the namespace's,
	// over files of its own id range only.
	Caps []string
	// Owner is the uid inside that the folder and the inputs the host
	// wrote are given to at the first Run (0, the namespace's root,
	// unless a build user of RunAs is to write there).
	Owner int

	limits Limits
	// mu guards slot between Kill (from a timer or a plugin's watcher)
	// and Close: a Kill after Close must not signal the ids of a slot
	// another box has taken since.
	mu     sync.Mutex
	slot   *slot
	sealed bool
	binds  []string // host sources, mounted at bind points in the slot
	// root is the merged view of the buildroot UseRoot set up, or "" for
	// the host's /usr and /etc.
	root string
	// user is the uid inside the next Run runs as (RunAs).
	user    int
	held    []io.Closer
	sockets bool // SocketDir is mounted
}

// Open makes a new sandbox: a fresh tmpfs of the disk limit's size, owned
// by the sandbox's id range.
func Open(l Limits) (*Box, error) {
	if os.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	if _, err := systemTool("bwrap"); err != nil {
		return nil, ErrNoBwrap
	}
	s, err := takeSlot()
	if err != nil {
		return nil, err
	}
	b := &Box{limits: l.withDefaults(), slot: s}
	if err := os.Mkdir(b.disk(), 0o700); err != nil {
		s.release()
		return nil, err
	}
	inodes := max(b.limits.Disk/8192, 65536)
	opts := fmt.Sprintf("size=%d,nr_inodes=%d,mode=0700,uid=%d,gid=%d", b.limits.Disk, inodes, s.base, s.base)
	if err := unix.Mount("quarry-sandbox", b.disk(), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		s.release()
		return nil, fmt.Errorf("sandbox folder: mount tmpfs: %w", err)
	}
	// The folder, and /tmp and /dev/shm inside, are folders of this
	// tmpfs, so that the disk limit bounds everything a sandbox can write.
	// They sit side by side at its top, which no run sees: bwrap finds
	// each by its name on the host at every Run, and a name inside the
	// job's folder would be the job's to change between two Runs (a link
	// to a host folder, mounted at /tmp by the next).
	for _, d := range []string{folder, scratchDirs[0], scratchDirs[1]} {
		p := filepath.Join(b.disk(), d)
		mode := os.FileMode(0o777) | os.ModeSticky
		if d == folder {
			mode = 0o700
		}
		if err := os.Mkdir(p, 0o700); err != nil {
			b.Close()
			return nil, err
		}
		if err := os.Lchown(p, s.base, s.base); err != nil {
			b.Close()
			return nil, err
		}
		if err := os.Chmod(p, mode); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// folder and scratchDirs are the folders at the top of the box's tmpfs
// bound at /build, /tmp and /dev/shm.
const folder = "build"

var scratchDirs = []string{"tmp", "shm"}

// disk is where the box's tmpfs is mounted on the host.
func (b *Box) disk() string { return filepath.Join(b.slot.dir, "disk") }

// Dir is the sandbox's folder on the host. The host writes inputs there
// before the first Run; after it, only ReadFile and Find read it.
func (b *Box) Dir() string { return filepath.Join(b.disk(), folder) }

// UID is the host uid the sandbox's root maps to.
func (b *Box) UID() int { return b.slot.base }

// Limits are the box's limits, defaults filled in.
func (b *Box) Limits() Limits { return b.limits }

// SocketDir is a small tmpfs of the box's (a few KiB), for the unix
// sockets a sandboxed process listens on: bound writable into the box by
// the caller, it is no way around the disk limit.
func (b *Box) SocketDir() (string, error) {
	dir := filepath.Join(b.slot.dir, "sock")
	if b.sockets {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := unix.Mount("quarry-sandbox-sock", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=64k,nr_inodes=64,mode=0755"); err != nil {
		return "", fmt.Errorf("sandbox socket folder: mount tmpfs: %w", err)
	}
	b.sockets = true
	return dir, nil
}

// Hold keeps c open until the box closes (a descriptor the host uses to
// reach the sandboxed process).
func (b *Box) Hold(c io.Closer) { b.held = append(b.held, c) }

// Close unmounts the folder and the binds (their content goes with them)
// and frees the slot.
func (b *Box) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.slot == nil {
		return nil
	}
	b.slot.kill() // nothing of the box outlives it, to hold its folder or ids
	for _, c := range b.held {
		c.Close()
	}
	b.held = nil
	err := b.slot.release()
	b.slot = nil
	return err
}

// seal gives the inputs the host wrote to the sandbox's root, before
// anything of the sandbox has run (so no link in it is the job's), and
// the tmpfs's top to the same id: bwrap, as the box's user, passes
// through it to what it binds.
func (b *Box) seal() error {
	if b.sealed {
		return nil
	}
	id := b.slot.base + b.Owner
	if err := os.Lchown(b.disk(), id, id); err != nil {
		return err
	}
	err := filepath.WalkDir(b.Dir(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, id, id)
	})
	b.sealed = err == nil
	return err
}

// bind mounts a host path at a bind point in the slot, which bwrap (as
// the box's ids) can reach by name whatever the folders above the path.
func (b *Box) bind(p string, readOnly bool) (string, error) {
	for i, have := range b.binds {
		if have == p {
			return filepath.Join(b.slot.dir, "binds", fmt.Sprintf("%d", i)), nil
		}
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	// The bind points sit in a folder only the box's ids (and root) can
	// enter: the slot's path is open to anyone, what is bound is not.
	binds := filepath.Join(b.slot.dir, "binds")
	if err := os.MkdirAll(binds, 0o700); err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	if err := os.Lchown(binds, b.slot.base, b.slot.base); err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	point := filepath.Join(binds, fmt.Sprintf("%d", len(b.binds)))
	if st.IsDir() {
		err = os.Mkdir(point, 0o755)
	} else {
		err = os.WriteFile(point, nil, 0o644)
	}
	if err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	if err := unix.Mount(p, point, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		os.Remove(point)
		return "", fmt.Errorf("sandbox: bind %s: %w", p, err)
	}
	if readOnly {
		if err := unix.Mount("", point, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
			unix.Unmount(point, unix.MNT_DETACH)
			os.Remove(point)
			return "", fmt.Errorf("sandbox: bind %s read-only: %w", p, err)
		}
	}
	// Known only once it is mounted as asked: a retry must not reuse a
	// point that failed.
	b.binds = append(b.binds, p)
	return point, nil
}

// Cmd is the sandboxed command for argv, for callers that manage the
// process themselves (go-plugin's runner): the id mapping and the process
// limit are set; time and output are the caller's to bound.
func (b *Box) Cmd(argv ...string) (*exec.Cmd, error) {
	if err := b.seal(); err != nil {
		return nil, err
	}
	src := map[string]string{}
	for _, p := range b.Writable {
		if err := os.Lchown(p, b.slot.base, b.slot.base); err != nil {
			return nil, err
		}
	}
	for i, p := range append(append([]string(nil), b.ReadOnly...), b.Writable...) {
		point, err := b.bind(p, i < len(b.ReadOnly))
		if err != nil {
			return nil, err
		}
		src[p] = point
	}
	if b.root != "" {
		// bwrap, as this Run's user, passes through to the root by name.
		if err := os.Chown(filepath.Dir(b.root), 0, b.slot.base+b.user); err != nil {
			return nil, err
		}
	}
	line := b.command(argv, b.disk(), src)
	// The system's prlimit, whatever the caller's PATH: the box's ids
	// must be able to run it, and a folder of the caller's may be closed
	// to them.
	tool, err := systemTool(line[0])
	if err != nil {
		return nil, err
	}
	if err := closeOnExec(); err != nil {
		return nil, err
	}
	cmd := exec.Command(tool, line[1:]...)
	cmd.Env = []string{"PATH=/usr/bin:/usr/sbin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// The process is root of a user namespace whose ids are the box's
		// range: it owns nothing on the host, and host root's files are
		// "other" to it. Setting the credentials is what moves it off
		// host uid 0: a new namespace alone keeps the creator's uid.
		// Groups: none. Without setgroups(0) the process would keep the
		// host's supplementary groups (root's 0 among them), and read
		// what they may.
		Cloneflags:                 syscall.CLONE_NEWUSER,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: b.slot.base, Size: IDs}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: b.slot.base, Size: IDs}},
		GidMappingsEnableSetgroups: true,
		// A user other than 0 (RunAs) has no capability here, and bwrap
		// makes it a further namespace of its own.
		Credential: &syscall.Credential{Uid: uint32(b.user), Gid: uint32(b.user), Groups: []uint32{}},
		Pdeathsig:  syscall.SIGKILL,
		Setpgid:    true,
	}
	return cmd, nil
}

// closeOnExec marks every descriptor of this process above stderr
// close-on-exec. Go opens its own so, but what the process was started
// with stays open across exec: a make jobserver's pipe, a file or a pipe
// a parent left open. Every child inherits those, bwrap passes them on,
// and the job could read or write them. (What a Cmd's caller hands over,
// ExtraFiles, is dup'ed into the child without the flag.)
func closeOnExec() error {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	for _, n := range names {
		if fd, err := strconv.Atoi(n); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
	return nil
}

// systemDirs are where the sandbox's own tools are taken from.
var systemDirs = []string{"/usr/bin", "/bin", "/usr/sbin", "/sbin"}

// systemTool is the absolute path of a system tool.
func systemTool(name string) (string, error) {
	for _, d := range systemDirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s", name, strings.Join(systemDirs, ", "))
}

// Command is the command line a Run executes, as provenance records it:
// the box's tmpfs shown as <box>, and each bind by its path inside, so
// that the line is the same on every machine.
func (b *Box) Command(argv ...string) []string { return b.command(argv, shownDisk, nil) }

// shownDisk stands for the box's tmpfs in the lines provenance records.
const shownDisk = "<box>"

// command is the line; disk is where the box's tmpfs is, and src maps a
// bound path to its bind point.
func (b *Box) command(argv []string, disk string, src map[string]string) []string {
	from := func(p string) string {
		if s, ok := src[p]; ok {
			return s
		}
		return p
	}
	l := b.limits
	args := []string{"prlimit", "--nproc=" + strconv.Itoa(l.Procs), "--core=0", "--", "bwrap"}
	if b.user != 0 {
		// Not the namespace's root: bwrap makes a namespace where this
		// user is only itself, and no one in it can make another.
		args = append(args, "--unshare-user", "--uid", strconv.Itoa(b.user), "--gid", strconv.Itoa(b.user), "--disable-userns")
	}
	switch {
	case b.root != "" && disk == shownDisk:
		args = append(args, "--bind", "<buildroot>", "/")
	case b.root != "":
		args = append(args, "--bind", b.root, "/")
	default:
		for _, dir := range shared {
			args = append(args, "--ro-bind", dir, dir)
		}
		args = append(args,
			"--symlink", "usr/bin", "/bin",
			"--symlink", "usr/sbin", "/sbin",
			"--symlink", "usr/lib", "/lib",
			"--symlink", "usr/lib64", "/lib64",
		)
	}
	args = append(args,
		"--proc", "/proc",
		"--dev", "/dev",
		"--bind", disk+"/"+folder, Dir,
		"--bind", disk+"/"+scratchDirs[0], "/tmp",
		"--bind", disk+"/"+scratchDirs[1], "/dev/shm",
	)
	for _, p := range b.ReadOnly {
		args = append(args, "--ro-bind", from(p), p)
	}
	for _, p := range b.Writable {
		args = append(args, "--bind", from(p), p)
	}
	if b.root == "" {
		// Everything but /build, /tmp and Writable is read-only: a job that
		// writes elsewhere fails rather than writing somewhere invisible.
		// (A root is the box's own, and writable: BuildRequires go there.)
		args = append(args, "--remount-ro", "/")
	}
	args = append(args,
		"--remount-ro", "/dev",
		// The user namespace is the one Cmd made, with the box's ids; the
		// others are bwrap's.
		"--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
		"--die-with-parent",
		"--new-session",
		"--cap-drop", "ALL",
	)
	if b.user == 0 {
		for _, c := range b.Caps {
			args = append(args, "--cap-add", c)
		}
	}
	args = append(args,
		"--chdir", Dir,
		"--clearenv",
		"--setenv", "PATH", "/usr/bin:/usr/sbin",
		"--setenv", "HOME", Dir,
		"--setenv", "LANG", "C.UTF-8",
		"--setenv", "TMPDIR", "/tmp",
	)
	for _, kv := range b.Env {
		k, v, _ := strings.Cut(kv, "=")
		args = append(args, "--setenv", k, v)
	}
	return append(append(args, "--"), argv...)
}

// Run runs argv in the sandbox with its output (stdout and stderr
// together, as a build log) to out, within the box's limits. A limit hit
// is a *LimitError; the parent context's end is its error.
func (b *Box) Run(ctx context.Context, out io.Writer, argv ...string) error {
	cmd, err := b.Cmd(argv...)
	if err != nil {
		return err
	}
	tctx, cancel := context.WithTimeout(ctx, b.limits.Time)
	defer cancel()
	logw := &capped{w: out, max: b.limits.Log, stop: cancel}
	cmd.Stdout, cmd.Stderr = logw, logw
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", argv[0], err)
	}
	done, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-tctx.Done():
			// bwrap itself: with --die-with-parent and its pid
			// namespace, everything the job started dies with it. (The
			// Process, not the pid: it cannot hit a reused pid.) And
			// whatever escaped that, by its ids (Kill).
			cmd.Process.Kill()
			b.Kill()
		case <-done:
		}
	}()
	err = cmd.Wait()
	close(done)
	<-watched // the box is the caller's again: it may Close it
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case logw.over:
		return &LimitError{Limit: "log", Value: Size(b.limits.Log), Setting: b.limits.Setting}
	case errors.Is(tctx.Err(), context.DeadlineExceeded):
		return &LimitError{Limit: "time", Value: b.limits.Time.String(), Setting: b.limits.Setting}
	case err == nil:
		return nil
	case b.Full(string(logw.tail)):
		return &LimitError{Limit: "disk", Value: Size(b.limits.Disk), Setting: b.limits.Setting}
	case ForkFailed(string(logw.tail)):
		return &LimitError{Limit: "processes", Value: strconv.Itoa(b.limits.Procs), Setting: b.limits.Setting}
	}
	return fmt.Errorf("%s: %w", argv[0], err)
}

// Full says whether a failed command ran into the disk limit, given the
// end of its output: the folder's tmpfs is full, or it said ENOSPC while
// the tmpfs is most of the way there (a tool that removes its partial
// output after ENOSPC leaves room behind).
func (b *Box) Full(tail string) bool {
	return b.slot != nil && (b.diskFull() || DiskFull(tail) && b.nearlyFull())
}

// diskFull says whether the folder's tmpfs is full.
func (b *Box) diskFull() bool {
	free, files, ok := b.free()
	return ok && (free < 1<<20 || files == 0)
}

// nearlyFull says whether less than a tenth of the tmpfs is free.
func (b *Box) nearlyFull() bool {
	free, _, ok := b.free()
	return ok && free < b.limits.Disk/10
}

func (b *Box) free() (bytes int64, files uint64, ok bool) {
	var st unix.Statfs_t
	if unix.Statfs(b.Dir(), &st) != nil {
		return 0, 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), st.Ffree, true
}

// DiskFull says whether output tells of a full file system (ENOSPC).
func DiskFull(tail string) bool { return strings.Contains(tail, "No space left on device") }

// ForkFailed says whether output tells of refused forks or threads
// (EAGAIN from the process limit): shells, make, Go, Python, glibc.
func ForkFailed(tail string) bool {
	t := strings.ToLower(tail)
	for _, m := range []string{"cannot fork", "fork: retry", "resource temporarily unavailable", "pthread_create failed"} {
		if strings.Contains(t, m) {
			return true
		}
	}
	return false
}

// capped passes output on up to max bytes, then stops the run. It keeps
// the last bytes it saw, to tell why a run failed.
type capped struct {
	w    io.Writer
	max  int64
	n    int64
	over bool
	stop func()
	tail []byte
}

func (c *capped) Write(p []byte) (int, error) {
	c.tail = append(c.tail, p...)
	if len(c.tail) > 8192 {
		c.tail = c.tail[len(c.tail)-4096:]
	}
	if c.over {
		return len(p), nil
	}
	room := c.max - c.n
	if int64(len(p)) > room {
		c.over = true
		c.stop()
		if room > 0 && c.w != nil {
			c.w.Write(p[:room])
		}
		c.n = c.max
		return len(p), nil
	}
	c.n += int64(len(p))
	if c.w != nil {
		if _, err := c.w.Write(p); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Size writes a byte count as the config does: 8GiB, 64MiB, 512KiB.
func Size(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.name)
		}
	}
	return strconv.FormatInt(n, 10)
}
