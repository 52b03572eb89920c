package conformance

import "context"

func init() {
	register(Check{
		Name:  "determinism",
		Why:   "the same config gives the same outputs, run after run: the core caches and reproduces builds from them",
		Level: Full,
		Needs: []string{"answers"},
		Fix:   "compute outputs from the config alone: iterate maps in sorted order (slices.Sorted(maps.Keys(m))), and put no time.Now or random values in what you return",
		Run: func(ctx context.Context, e *Env) error {
			var first *Outputs
			for i := 0; i < 2; i++ {
				s, err := e.Configured(ctx)
				if err != nil {
					return err
				}
				o, err := Collect(ctx, s)
				s.Close()
				if err != nil {
					return err
				}
				if first == nil {
					first = o
				} else if part := first.Diff(o); part != "" {
					return Errorf("two runs with the same config return different %s", part)
				}
			}
			return nil
		},
	})
}
