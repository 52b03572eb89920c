package sandbox

import (
	"os/exec"
	"syscall"
	"testing"
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
