package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Kill ends every process of the box: every process whose user id is in
// the box's range, wherever it is in the process tree. Killing bwrap is
// not always enough: a process bwrap forked before it set its parent-death
// signal (bwrap killed while it was still starting, as a timeout does on a
// loaded machine) outlives it, and holds the pipes its caller waits on.
// The ids are the box's alone, so nothing else is touched.
func (b *Box) Kill() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.slot.kill()
}

// kill ends every process with the slot's ids; nil is no slot (closed).
// A process may fork while the list is read: again until none is left
// (each round kills what the last one saw; forks are bounded by the
// box's process limit).
func (s *slot) kill() {
	if s == nil {
		return
	}
	for round := 0; round < 100; round++ {
		if killRange(s.base, IDs) == 0 {
			return
		}
	}
}

// killRange signals SIGKILL to each process whose real uid is in [base,
// base+n) and returns how many it found. A pid is opened as a pidfd
// before its uid is read, so a pid reused by another process in between is
// never signalled: the pidfd names the process that was opened.
func killRange(base, n int) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	found := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue
		}
		if uid, ok := liveUID(pid); ok && uid >= base && uid < base+n {
			found++
			unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		}
		unix.Close(fd)
	}
	return found
}

// liveUID is a process's real uid, unless it is a zombie (which a signal
// cannot end; its parent reaps it).
func liveUID(pid int) (int, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if state, ok := strings.CutPrefix(line, "State:"); ok && strings.HasPrefix(strings.TrimSpace(state), "Z") {
			return 0, false
		}
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				return 0, false
			}
			uid, err := strconv.Atoi(fields[0])
			return uid, err == nil
		}
	}
	return 0, false
}
