package history

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// A run is recorded with its process's pid; a reader tells a run whose
// process died (killed, the machine rebooted) from one still going by
// looking for that process on this host. The pid alone is not enough: a
// pid is reused, soonest after a reboot, so the run also keeps its
// process's identity (the boot's id and the process's start time in
// /proc), and a live process with another identity is not the run's.

var bootID = sync.OnceValue(func() string {
	b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(b))
})

// procStat reads a process's state letter and identity from /proc.
func procStat(pid int) (state byte, ident string, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, "", err
	}
	// pid (comm) state ppid ...: comm may hold spaces and parentheses, so
	// the fields are counted from the last ')'. starttime is field 22,
	// the 20th after comm.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, "", errors.New("malformed stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, "", errors.New("malformed stat")
	}
	return f[0][0], bootID() + "/" + f[19], nil
}

// procIdent is the identity recorded with a run, "" if it cannot be read
// (no /proc, or the process is gone already).
func procIdent(pid int) string {
	if pid <= 0 {
		return ""
	}
	_, id, err := procStat(pid)
	if err != nil {
		return ""
	}
	return id
}

// alive tells whether the process of a run of this host is still there.
func alive(pid int, ident string) bool {
	if pid <= 0 {
		return false
	}
	state, id, err := procStat(pid)
	switch {
	case err == nil:
		// A zombie has exited; only its exit status is left to reap.
		if state == 'Z' || state == 'X' {
			return false
		}
		return ident == "" || id == ident
	case errors.Is(err, fs.ErrNotExist) && procMounted():
		return false
	}
	// No /proc to read: signal 0 checks that the pid exists (EPERM: it
	// does, as another user's).
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

var procMounted = sync.OnceValue(func() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
})
