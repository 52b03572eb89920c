package conformance

import (
	"context"

	"github.com/quarrylinux/quarry/sdk/host"
)

func init() {
	register(check{
		name: "capabilities",
		why:  "the capabilities GetPluginInfo declares are exactly the calls the plugin answers; the host calls only those",
		run: func(ctx context.Context, e *env) error {
			s, err := e.configured(ctx)
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
				case info.Has(c.cap) && unsupported(err):
					return errorf("declares %s but does not implement it", c.cap)
				case info.Has(c.cap) && err != nil:
					return errorf("%s: %v", c.cap, err)
				case !info.Has(c.cap) && err == nil:
					return errorf("answers %s without declaring it", c.cap)
				}
			}
			return nil
		},
	})
}
