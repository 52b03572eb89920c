package conformance

import (
	"context"

	"github.com/quarrylinux/quarry/plugins/policy"
)

// coreNames are packages every Enterprise Linux core has: no SIG may take
// or replace them.
var coreNames = []string{"bash", "coreutils", "dnf", "glibc", "kernel", "kernel-core", "kernel-devel", "kernel-modules", "openssl", "rpm", "systemd"}

func init() {
	register(check{
		name: "policy",
		why:  "everything the plugin returns passes the core's policy gate: its own names, paths inside its packages, its repositories, renamed kernels",
		run: func(ctx context.Context, e *env) error {
			s, err := e.configured(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			o, err := collect(ctx, s)
			if err != nil {
				return err
			}
			g := gate(e)
			var vs policy.Violations
			vs = append(vs, g.Repos(o.Repos, e.target.Distribution.Arches)...)
			vs = append(vs, g.Packages(o.Packages, o.Repos)...)
			vs = append(vs, g.Kernels(o.Kernels, o.Repos, e.target.Distribution.Arches)...)
			return vs.Err()
		},
	})
}

func gate(e *env) *policy.Gate {
	names := map[string]bool{e.target.Distribution.Name + "-release": true}
	for _, n := range coreNames {
		names[n] = true
	}
	return &policy.Gate{SIG: e.target.SIG, Distro: e.target.Distribution.Name, Core: policy.Core{Names: names}, Limits: policy.DefaultLimits}
}
