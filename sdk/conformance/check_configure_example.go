package conformance

import "context"

func init() {
	register(Check{
		Name:  "configure-example",
		Why:   "the SIG's documented example config is accepted",
		Needs: []string{"plugin-info"},
		Fix:   "decode the block with req.Decode(&cfg) into a struct whose json tags are the example's keys; its diagnostics name each key it refuses",
		Run: func(ctx context.Context, e *Env) error {
			s, err := e.Configured(ctx)
			if err != nil {
				return err
			}
			s.Close()
			return nil
		},
	})
}
