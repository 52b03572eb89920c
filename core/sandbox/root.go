package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// rootMounts is the slot's folder where a root's mounts are.
const rootMounts = "root"

// BuildUser is the unprivileged user builds run as inside a root (mock's
// mockbuild): RunAs(BuildUser) after the root's own set-up.
const BuildUser = 1000

// rootLayer is the folder at the top of the box's tmpfs that holds the
// root's writable layer: the disk limit bounds what a job writes to its
// /, and no run sees the layer but through the overlay.
const rootLayer = "root"

// UseRoot makes dir, an unpacked buildroot image (owned by the ids
// 0..65535 the image names), the box's / in place of the host's /usr and
// /etc: an idmapped, read-only view of it (its root is the box's root,
// its user 1000 the box's 1000, and no file of it changes) under a
// private writable layer in the box's tmpfs, so that every job starts
// from the same image and leaves it as it was. Call it before the first
// Run. Nothing of the host's file system is visible then but what the
// box binds.
func (b *Box) UseRoot(dir string) error {
	if b.root != "" {
		return fmt.Errorf("sandbox: the box has a root already")
	}
	if b.sealed {
		return fmt.Errorf("sandbox: UseRoot after the first Run")
	}
	// The image's view and the merged root are mounted in a folder of
	// the slot's that only root and the box's user of the Run enter (Cmd
	// gives it that user's group): the slot's path is open to anyone, and
	// the root has the image's 1777 folders and what the job installed.
	mounts := filepath.Join(b.slot.dir, rootMounts)
	if err := os.Mkdir(mounts, 0o700); err != nil {
		return fmt.Errorf("sandbox root: %w", err)
	}
	if err := os.Chmod(mounts, 0o710); err != nil {
		return fmt.Errorf("sandbox root: %w", err)
	}
	lower := filepath.Join(mounts, "lower")
	merged := filepath.Join(mounts, "merged")
	upper := filepath.Join(b.disk(), rootLayer, "upper")
	work := filepath.Join(b.disk(), rootLayer, "work")
	for _, d := range []string{lower, merged, upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("sandbox root: %w", err)
		}
	}
	// The layer's top is the merged /, which the box's root owns.
	if err := os.Lchown(upper, b.slot.base, b.slot.base); err != nil {
		return fmt.Errorf("sandbox root: %w", err)
	}
	ns, err := b.userns()
	if err != nil {
		return fmt.Errorf("sandbox root: %w", err)
	}
	defer unix.Close(ns)
	tree, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return fmt.Errorf("sandbox root %s: open_tree: %w", dir, err)
	}
	defer unix.Close(tree)
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &unix.MountAttr{
		Attr_set:  unix.MOUNT_ATTR_IDMAP | unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV,
		Userns_fd: uint64(ns),
	}); err != nil {
		return fmt.Errorf("sandbox root %s: idmapped mount (Linux 5.19 or later, on a file system that supports it): %w", dir, err)
	}
	if err := unix.MoveMount(tree, "", unix.AT_FDCWD, lower, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("sandbox root %s: move_mount: %w", dir, err)
	}
	// The overlay is the host's (mounted by root in the host's
	// namespace): no one in the box can set the trusted xattrs it reads,
	// and its upper layer is not in the box's folder.
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work)
	if err := unix.Mount("quarry-root", merged, "overlay", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("sandbox root %s: overlay: %w", dir, err)
	}
	// bwrap mounts the box's folder at /build: for a build user, who
	// cannot make it, the point is made here (a root's files are its
	// root's).
	point := filepath.Join(merged, Dir)
	if err := os.Mkdir(point, 0o755); err != nil && !os.IsExist(err) {
		return fmt.Errorf("sandbox root: %w", err)
	}
	if err := os.Lchown(point, b.slot.base, b.slot.base); err != nil {
		return fmt.Errorf("sandbox root: %w", err)
	}
	b.root = merged
	return nil
}

// RunAs sets the user (inside) the next Runs run as: 0, the namespace's
// root with the box's Caps, or another, with no capability at all and
// not even the namespace's: it is a further user namespace's, where only
// its own files are its own (a root's files are nobody's to it). Owner
// says whose the box's folder is.
func (b *Box) RunAs(uid int) error {
	if uid < 0 || uid >= IDs {
		return fmt.Errorf("sandbox: uid %d is outside the box's ids", uid)
	}
	b.user = uid
	return nil
}

// userns is a descriptor of a user namespace with the box's mapping, for
// the idmapped mount: made by a child that only lives long enough for the
// namespace to be opened (the descriptor keeps it).
func (b *Box) userns() (int, error) {
	sleep, err := systemTool("sleep")
	if err != nil {
		return -1, err
	}
	cmd := exec.Command(sleep, "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: b.slot.base, Size: IDs}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: b.slot.base, Size: IDs}},
		Pdeathsig:   syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("user namespace: %w", err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", cmd.Process.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("user namespace: %w", err)
	}
	return fd, nil
}
