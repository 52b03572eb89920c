package conformance

import (
	"context"
	"slices"

	"github.com/quarrylinux/quarry/plugins"
	"github.com/quarrylinux/quarry/sdk/host"
)

func init() {
	register(check{
		name: "plugin-info",
		why:  "GetPluginInfo, the first call, names the SIG, a semver version, the SDK and a protocol major the host speaks",
		run: func(ctx context.Context, e *env) error {
			s, err := e.launch(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			info := s.Info()
			switch {
			case info.SIG != e.target.SIG:
				return errorf("the plugin says it is SIG %q; its binary says %q", info.SIG, e.target.SIG)
			case !plugins.ValidVersion(info.Version):
				return errorf("plugin version %q is not semver (1.2.3)", info.Version)
			case info.SDKVersion == "":
				return errorf("no SDK version")
			case !slices.ContainsFunc(info.APIVersions, func(v uint32) bool { return slices.Contains(host.APIVersions, v) }):
				return errorf("API versions %v: none is one this host speaks (%v)", info.APIVersions, host.APIVersions)
			case info.Description == "":
				return errorf("no description")
			}
			return nil
		},
	})
}
