package conformance

import (
	"context"

	"github.com/quarrylinux/quarry/sdk"
)

func init() {
	register(Check{
		Name:  "configure-rejects",
		Why:   "a config block with a key the SIG does not know is refused with an error diagnostic that names its path",
		Needs: []string{"configure-example"},
		Fix:   "in Configure, return req.Decode(&cfg): it refuses unknown keys with an error diagnostic naming each one's path (sdk.ConfigureRequest.Decode)",
		Run: func(ctx context.Context, e *Env) error {
			s, err := e.Launch(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			diags, err := s.Configure(ctx, sdk.ConfigureRequest{Config: []byte(`{"quarry_conformance_unknown_key": 1}`), Distribution: e.Target.Distribution})
			if err != nil {
				return err
			}
			for _, d := range diags {
				if d.Severity == sdk.Error && d.Path != "" {
					return nil
				}
			}
			if diags.HasErrors() {
				return WithFix(Errorf("the bad config is refused, but no diagnostic names a path: %s", diags),
					"give the diagnostic the key's path (sdk.Diagnostic{Path: ...}), or return req.Decode(&cfg)'s, which do")
			}
			return Errorf("a config with an unknown key was accepted")
		},
	})
}
