package conformance

import "context"

func init() {
	register(check{
		name:   "sandboxed",
		why:    "every call works inside the sandbox: no network, a read-only file system but the plugin's scratch folder",
		level:  Full,
		binary: true,
		run: func(ctx context.Context, e *env) error {
			s, err := e.configured(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			if _, err := collect(ctx, s); err != nil {
				return errorf("%v (a plugin may not reach the network or write outside its scratch folder)", err)
			}
			return nil
		},
	})
}
