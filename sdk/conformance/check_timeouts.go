package conformance

import (
	"context"
	"time"
)

func init() {
	register(Check{
		Name:  "timeouts",
		Why:   "every call answers well within the host's call timeout, and gives up when the host does",
		Level: Full,
		Needs: []string{"answers"},
		Fix:   "pass the ctx each call receives to whatever may block, and do slow work once, in Configure",
		Run: func(ctx context.Context, e *Env) error {
			s, err := e.Configured(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			budget := e.Target.Timeout() * 3 / 4
			cctx, cancel := context.WithTimeout(ctx, budget)
			defer cancel()
			start := time.Now()
			_, err = Collect(cctx, s)
			if took := time.Since(start); err != nil || took > budget {
				return Errorf("the calls took %s (budget %s): %v", took.Round(time.Millisecond), budget, err)
			}
			return nil
		},
	})
}
