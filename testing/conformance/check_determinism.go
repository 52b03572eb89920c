package conformance

import "context"

func init() {
	register(check{
		name:  "determinism",
		why:   "the same config gives the same outputs, run after run: the core caches and reproduces builds from them",
		level: Full,
		run: func(ctx context.Context, e *env) error {
			var first *outputs
			for i := 0; i < 2; i++ {
				s, err := e.configured(ctx)
				if err != nil {
					return err
				}
				o, err := collect(ctx, s)
				s.Close()
				if err != nil {
					return err
				}
				if first == nil {
					first = o
				} else if part := first.diff(o); part != "" {
					return errorf("two runs with the same config return different %s", part)
				}
			}
			return nil
		},
	})
}
