package conformance

import (
	"context"
	"time"

	"github.com/quarrylinux/quarry/sdk/host"
)

// stopBound is how long a call may go on after Stop.
const stopBound = 2 * time.Second

func init() {
	register(Check{
		Name:  "stop",
		Why:   "Stop cancels what is in flight within " + stopBound.String() + ": the host stops plugins on Ctrl-C and on failures",
		Needs: []string{"answers"},
		Fix:   "pass the ctx each call receives to whatever may block, and return when ctx.Done() is closed: sdk.Serve cancels it on Stop",
		Run: func(ctx context.Context, e *Env) error {
			s, err := e.Configured(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			info := s.Info()
			call := func() error { _, err := s.Repos(ctx); return err }
			switch {
			case info.Has(host.CapPackages):
				call = func() error { _, err := s.Packages(ctx); return err }
			case info.Has(host.CapInstallers):
				call = func() error { _, err := s.Installers(ctx); return err }
			case !info.Has(host.CapRepos):
				return nil // nothing to stop
			}
			done := make(chan error, 1)
			go func() { done <- call() }()
			stopErr := s.Stop(ctx)
			// What is judged is that the call ends: a plugin that died
			// on its own cannot answer Stop, and that is another check's.
			select {
			case <-done:
				return nil
			case <-time.After(stopBound):
				if stopErr != nil {
					return Errorf("Stop: %v", stopErr)
				}
				return Errorf("a call went on for more than %s after Stop", stopBound)
			}
		},
	})
}
