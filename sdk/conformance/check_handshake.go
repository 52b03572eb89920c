package conformance

import (
	"context"
	"errors"
)

func init() {
	register(Check{
		Name: "handshake",
		Why:  "the host launches the plugin and it answers its first call; a binary runs hash-checked and sandboxed, over mutual TLS, its stdout carrying the handshake line and nothing else",
		Fix:  "serve the plugin from main with sdk.Serve(name, factory), and never write to stdout: log with sdk.Logger()",
		Run: func(ctx context.Context, e *Env) error {
			s, err := e.Launch(ctx)
			var info *InfoError
			if errors.As(err, &info) {
				return nil // launched and answered: plugin-info judges what it said
			}
			if err != nil {
				return err
			}
			s.Close()
			return nil
		},
	})
}
