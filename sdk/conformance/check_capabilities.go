package conformance

import (
	"context"

	"github.com/quarrylinux/quarry/sdk/host"
)

func init() {
	register(Check{
		Name:  "capabilities",
		Why:   "the capabilities GetPluginInfo declares are exactly the calls the plugin answers; the host calls only those",
		Needs: []string{"answers"},
		Fix:   "implement exactly the provider interfaces the SIG means (sdk.RepoProvider, sdk.PackageProvider, sdk.KernelProvider, sdk.InstallerProvider): sdk.Serve declares the ones the plugin has",
		Run: func(ctx context.Context, e *Env) error {
			s, err := e.Configured(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			info := s.Info()
			calls := []struct {
				cap  host.Capability
				call func() error
			}{
				{host.CapRepos, func() error { _, err := s.Repos(ctx); return err }},
				{host.CapPackages, func() error { _, err := s.Packages(ctx); return err }},
				{host.CapKernels, func() error { _, err := s.Kernels(ctx); return err }},
				{host.CapInstallers, func() error { _, err := s.Installers(ctx); return err }},
			}
			for _, c := range calls {
				err := c.call()
				switch {
				case info.Has(c.cap) && Unsupported(err):
					return Errorf("declares %s but does not implement it", c.cap)
				case info.Has(c.cap) && err != nil:
					return Errorf("%s: %v", c.cap, err)
				case !info.Has(c.cap) && err == nil:
					return Errorf("answers %s without declaring it", c.cap)
				}
			}
			return nil
		},
	})
}
