package engine

import (
	"context"
	"time"
)

// Retry calls fn until it succeeds, fails otherwise than Transient, ctx
// ends, or it was called tries times, waiting 1 s, 2 s, 4 s ... (at most
// most) between calls; warn, when set, is told of each wait. What an
// engine that does not answer for a while (a leader being elected, a
// cluster still forming) costs its callers: the coordinator's Run, a
// process's setup, a worker's reads and writes.
func Retry(ctx context.Context, tries int, most time.Duration, warn func(wait time.Duration, err error), fn func() error) error {
	for try := 0; ; try++ {
		err := fn()
		if err == nil || !Transient(err) || try >= tries-1 || ctx.Err() != nil {
			return err
		}
		wait := min(time.Second<<try, most)
		if warn != nil {
			warn(wait, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}
