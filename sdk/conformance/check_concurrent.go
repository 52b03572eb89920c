package conformance

import (
	"context"
	"sync"
)

func init() {
	register(Check{
		Name:  "concurrent",
		Why:   "calls made at once all succeed: the host may ask several things in parallel",
		Needs: []string{"answers"},
		Fix:   "guard what calls share (a sync.Mutex), or compute every answer from the config alone: the host calls at once",
		Run: func(ctx context.Context, e *Env) error {
			s, err := e.Configured(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			const n = 6
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = Collect(ctx, s)
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					return err
				}
			}
			return nil
		},
	})
}
