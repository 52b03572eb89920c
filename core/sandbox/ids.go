package sandbox

import (
	"cmp"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Every sandbox runs as its own range of host ids, mapped to 0..IDs-1 in
// its user namespace. The ranges sit far above the ids distributions hand
// out, above the usual /etc/subuid ranges and systemd-nspawn's
// --private-users=pick range (up to 0x6FFF0000), and below systemd's
// reserved 0x7FFE0000: they own no file on the host. A separate range per
// sandbox keeps one job's process limit (the kernel counts processes per
// uid) and files apart from another's.
const (
	IDBase  = 0x70000000
	IDs     = 65536
	idSlots = 4000
)

// A slot is one id range and one folder, /run/quarry-sandbox/<n>, where
// the box's tmpfs and its binds are mounted. It is held through a lock
// file, so that two Quarry processes on one machine never share it; what
// a killed process left in a slot is swept by the next one to take it.
// The folder's path is traversable by anyone (bwrap, running as the box's
// ids, must reach it by name); the tmpfs in it is the box's alone.
type slot struct {
	base int
	dir  string
	lock *os.File
	// claim is the slot's name in the abstract socket namespace, which
	// the machine's network namespace scopes, not its mounts: a Quarry
	// whose /run is another (in a chroot, or with its slots in the
	// temporary folder) sees the lock files of its own root only, and
	// would otherwise take the same ids, and kill their processes as
	// leftovers.
	claim net.Listener
}

// slotRoots are where slots live: /run when it is writable, as on any
// systemd machine, else the temporary folder.
var slotRoots = []string{"/run/quarry-sandbox", filepath.Join(os.TempDir(), "quarry-sandbox")}

func slotRoot() (string, error) {
	var err error
	for _, d := range slotRoots {
		if err = os.MkdirAll(d, 0o755); err != nil {
			continue
		}
		// Root mounts in there: it must be root's, not a link, and
		// writable by no one else (anyone may make /tmp/quarry-sandbox).
		var st syscall.Stat_t
		if err = syscall.Lstat(d, &st); err != nil {
			continue
		}
		if st.Mode&syscall.S_IFMT != syscall.S_IFDIR || st.Uid != 0 {
			err = fmt.Errorf("%s is not a folder of root's", d)
			continue
		}
		return d, os.Chmod(d, 0o755)
	}
	return "", fmt.Errorf("sandbox slots: %w", err)
}

// lockSlot takes slot n if it is free.
func lockSlot(root string, n int) (*slot, error) {
	f, err := os.OpenFile(filepath.Join(root, fmt.Sprintf("%d.lock", n)), os.O_CREATE|os.O_RDWR|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sandbox slots: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, nil
	}
	claim, err := net.Listen("unix", fmt.Sprintf("@quarry-sandbox-ids-%d", n))
	if err != nil {
		f.Close()
		return nil, nil // another Quarry, under another root, holds these ids
	}
	s := &slot{base: IDBase + n*IDs, dir: filepath.Join(root, fmt.Sprint(n)), lock: f, claim: claim}
	// Whatever is here was left by a process that died holding the slot:
	// its jobs' processes too, which would share this box's ids.
	s.kill()
	if err := Sweep(s.dir); err != nil {
		s.release()
		return nil, err
	}
	if err := os.Mkdir(s.dir, 0o755); err != nil {
		s.release()
		return nil, fmt.Errorf("sandbox slots: %w", err)
	}
	return s, nil
}

// takeSlot finds a free slot.
func takeSlot() (*slot, error) {
	root, err := slotRoot()
	if err != nil {
		return nil, err
	}
	var first error
	for n := 0; n < idSlots; n++ {
		s, err := lockSlot(root, n)
		if err != nil {
			first = cmp.Or(first, err) // one slot that cannot be swept does not stop the others
			continue
		}
		if s != nil {
			return s, nil
		}
	}
	if first != nil {
		return nil, first
	}
	return nil, fmt.Errorf("sandbox slots: all %d are in use", idSlots)
}

// SweepSlots clears every slot no running process holds: the tmpfs a
// killed run left mounted holds memory until it is.
func SweepSlots() error {
	root, err := slotRoot()
	if err != nil {
		return err
	}
	locks, _ := filepath.Glob(filepath.Join(root, "*.lock"))
	for _, l := range locks {
		var n int
		if _, err := fmt.Sscanf(filepath.Base(l), "%d.lock", &n); err != nil {
			continue
		}
		if s, err := lockSlot(root, n); err == nil && s != nil {
			s.release()
		}
	}
	return nil
}

// Leftovers lists what is mounted in slots no running process holds: what
// a killed run left behind. A slot that is busy is some process's.
func Leftovers() ([]string, error) {
	root, err := slotRoot()
	if err != nil {
		return nil, err
	}
	mounts, err := mountsUnder(root)
	if err != nil {
		return nil, err
	}
	var out []string
	checked := map[string]bool{}
	for _, m := range mounts {
		rel, _ := filepath.Rel(root, m)
		n := strings.SplitN(rel, "/", 2)[0]
		if checked[n] {
			continue
		}
		checked[n] = true
		f, err := os.OpenFile(filepath.Join(root, n+".lock"), os.O_RDWR|syscall.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			// Free, yet mounted: unless its owner let go just now.
			still, _ := mountsUnder(filepath.Join(root, n))
			out = append(out, still...)
		}
		f.Close()
	}
	return out, nil
}

// release sweeps the slot's folder and lets the slot go.
func (s *slot) release() error {
	if s == nil || s.lock == nil {
		return nil
	}
	err := Sweep(s.dir)
	s.claim.Close()
	s.lock.Close()
	s.lock = nil
	return err
}
