package sandbox

import (
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestKillEndsWhatOutlivedBwrap: a process with one of the box's ids that
// is not under bwrap (as one bwrap forked before it set its parent-death
// signal is, once bwrap is killed) is ended by Kill and by Close; a
// process with another box's ids is not touched.
func TestKillEndsWhatOutlivedBwrap(t *testing.T) {
	a, b := open(t, Limits{}), open(t, Limits{})
	start := func(box *Box) *exec.Cmd {
		cmd := exec.Command("sleep", "1000")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(box.UID() + 5), Gid: uint32(box.UID() + 5)}}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	escaped, other := start(a), start(b)
	defer other.Process.Kill()
	done := make(chan error, 1)
	go func() { done <- escaped.Wait() }()
	a.Kill()
	if err := <-done; err == nil || escaped.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the escaped process: %v", err)
	}
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("Kill touched another box's process: %v", err)
	}
	again := start(a)
	go func() { done <- again.Wait() }()
	a.Close()
	if err := <-done; err == nil {
		t.Fatal("Close left the box's process running")
	}
}

// TestTimeoutThenClose: a run that hits its time limit kills from a timer
// while the caller closes the box at once: no race, no panic, and the next
// box to take the slot starts with none of the old one's processes.
func TestTimeoutThenClose(t *testing.T) {
	for i := 0; i < 5; i++ {
		b, err := Open(Limits{Time: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Run(context.Background(), io.Discard, "sleep", "100"); !IsLimit(err) {
			t.Fatalf("run %d: %v, want the time limit", i, err)
		}
		b.Close()
	}
	left := open(t, Limits{})
	cmd := exec.Command("sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(left.UID() + 1), Gid: uint32(left.UID() + 1)}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// A run killed with -9 never closes its box: the slot's next holder
	// kills what it left.
	left.mu.Lock()
	n := (left.slot.base - IDBase) / IDs
	left.slot.lock.Close()
	left.slot.claim.Close()
	left.slot = nil
	left.mu.Unlock()
	root, err := slotRoot()
	if err != nil {
		t.Fatal(err)
	}
	// Whoever takes the slot next (this test, or a parallel one) kills it.
	if s, err := lockSlot(root, n); err != nil {
		t.Fatal(err)
	} else if s != nil {
		defer s.release()
	}
	if err := <-done; err == nil {
		t.Fatal("the leftover process outlived the slot's next holder")
	}
}

// TestSlotsAreClaimedMachineWide: a slot whose ids another Quarry holds
// under another root (its lock file is not this one's; only its claim is
// seen) is not taken.
func TestSlotsAreClaimedMachineWide(t *testing.T) {
	// The lowest slot no one claims, claimed here as another root's
	// Quarry would: every lower one is someone's.
	var other net.Listener
	n := 0
	for ; n < idSlots; n++ {
		l, err := net.Listen("unix", fmt.Sprintf("@quarry-sandbox-ids-%d", n))
		if err == nil {
			other = l
			break
		}
	}
	if other == nil {
		t.Fatal("every slot is claimed")
	}
	defer other.Close()
	b := open(t, Limits{})
	if b.UID() == IDBase+n*IDs {
		t.Fatalf("took slot %d, which another root's Quarry claims", n)
	}
}
