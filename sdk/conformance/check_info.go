package conformance

import (
	"context"
	"errors"
	"slices"

	"github.com/quarrylinux/quarry/sdk/host"
)

func init() {
	register(Check{
		Name:  "plugin-info",
		Why:   "GetPluginInfo, the first call, names the SIG, a semver version, the SDK and a protocol major the host speaks",
		Needs: []string{"handshake"},
		Fix:   "return sdk.Info{Version: \"1.2.3\", Description: \"one line\"} from your plugin's Info, and give sdk.Serve the SIG's name (its binary is quarry-sig-<name>)",
		Run: func(ctx context.Context, e *Env) error {
			s, err := e.Launch(ctx)
			var refused *InfoError
			if errors.As(err, &refused) {
				return refused.Err
			}
			if err != nil {
				return err
			}
			defer s.Close()
			info := s.Info()
			switch {
			case info.SIG != e.Target.SIG:
				return WithFix(Errorf("the plugin says it is SIG %q; its target is %q", info.SIG, e.Target.SIG),
					"give sdk.Serve the SIG's name: sdk.Serve(\""+e.Target.SIG+"\", factory)")
			case !host.ValidVersion(info.Version):
				return WithFix(Errorf("plugin version %q is not semver (1.2.3)", info.Version),
					"return a semver version from Info: sdk.Info{Version: \"1.2.3\"}")
			case info.SDKVersion == "":
				return WithFix(Errorf("no SDK version"), "serve the plugin with sdk.Serve, which reports the SDK's version")
			case !slices.ContainsFunc(info.APIVersions, func(v uint32) bool { return slices.Contains(host.APIVersions, v) }):
				return WithFix(Errorf("API versions %v: none is one this host speaks (%v)", info.APIVersions, host.APIVersions),
					"build the plugin with an SDK that speaks one of the host's protocol majors")
			case info.Description == "":
				return WithFix(Errorf("no description"), "describe the SIG in one line: sdk.Info{Description: \"...\"}")
			}
			return nil
		},
	})
}
