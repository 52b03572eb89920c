package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/quarrylinux/quarry/core/pipeline"
	"github.com/quarrylinux/quarry/core/plan"
)

// The exit codes, one table for every command. main prints the error
// once, with one "quarry: " prefix, and exits with its code.
const (
	exitFailed  = 1 // the work failed: jobs, SIGs, a publication that does not verify, bad input
	exitUsage   = 2 // the command line is wrong: a flag, an argument, an unknown package
	exitUnknown = 3 // no such command (urfave/cli's help says which was meant)
	exitBusy    = 4 // another run holds the state (the console answers 409)
)

// busyError is a command refused because another holds the state.
type busyError struct{ state string }

func (e *busyError) Error() string {
	return fmt.Sprintf("another quarry build is running over %s", e.state)
}

// exitCode is the code main exits with for err.
func exitCode(err error) int {
	var ee cli.ExitCoder
	var unknown *plan.UnknownError
	var be *pipeline.BuildError
	var se *pipeline.SIGsError
	var busy *busyError
	switch {
	case errors.As(err, &busy):
		return exitBusy
	case errors.As(err, &unknown):
		return exitUsage
	case errors.As(err, &be), errors.As(err, &se):
		return exitFailed
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return exitFailed
}
