package conformance

import "context"

func init() {
	register(check{
		name: "configure-example",
		why:  "the SIG's documented example config is accepted",
		run: func(ctx context.Context, e *env) error {
			s, err := e.configured(ctx)
			if err != nil {
				return err
			}
			s.Close()
			return nil
		},
	})
}
