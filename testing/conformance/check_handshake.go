package conformance

import "context"

func init() {
	register(check{
		name:   "handshake",
		why:    "the host launches the binary sandboxed, hash-checked, over mutual TLS; stdout carries the handshake line and nothing else",
		binary: true,
		run: func(ctx context.Context, e *env) error {
			s, err := e.configured(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			// A plugin that prints after the handshake is stopped by the
			// host, so its next call fails naming stdout.
			_, err = collect(ctx, s)
			return err
		},
	})
}
