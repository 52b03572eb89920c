package conformance

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

func init() {
	register(check{
		name: "configure-rejects",
		why:  "a config block with a key the SIG does not know is refused with an error diagnostic that names its path",
		run: func(ctx context.Context, e *env) error {
			s, err := e.launch(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			diags, err := s.Configure(ctx, sdk.ConfigureRequest{Config: []byte(`{"quarry_conformance_unknown_key": 1}`), Distribution: e.target.Distribution})
			if err != nil {
				return err
			}
			for _, d := range diags {
				if d.Severity == sdk.Error && d.Path != "" {
					return nil
				}
			}
			if diags.HasErrors() {
				return errorf("the bad config is refused, but no diagnostic names a path: %s", diags)
			}
			return errorf("a config with an unknown key was accepted")
		},
	})
}
