package conformance

import (
	"context"
	"time"
)

func init() {
	register(check{
		name:  "timeouts",
		why:   "every call answers well within the host's call timeout, and gives up when the host does",
		level: Full,
		run: func(ctx context.Context, e *env) error {
			s, err := e.configured(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			budget := e.target.callTimeout() * 3 / 4
			cctx, cancel := context.WithTimeout(ctx, budget)
			defer cancel()
			start := time.Now()
			_, err = collect(cctx, s)
			if took := time.Since(start); err != nil || took > budget {
				return errorf("the calls took %s (budget %s): %v", took.Round(time.Millisecond), budget, err)
			}
			return nil
		},
	})
}
