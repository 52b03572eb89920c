package conformance

import (
	"context"

	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/readback"
	"github.com/quarrylinux/quarry/plugins/policy"
	sdkconf "github.com/quarrylinux/quarry/sdk/conformance"
)

// coreNames are packages every Enterprise Linux core has: no SIG may take
// or replace them.
var coreNames = []string{"bash", "coreutils", "dnf", "glibc", "kernel", "kernel-core", "kernel-devel", "kernel-modules", "openssl", "rpm", "systemd"}

func init() {
	register(sdkconf.Check{
		Name:  "policy",
		Why:   "everything the plugin returns passes the core's policy gate: its own names, paths inside its packages, its repositories, renamed kernels",
		Needs: []string{"answers"},
		Fix:   "name every package and repository after the SIG (repositories publish as <distro>-sig-<sig>-<repo>), keep its paths inside its packages, and rename kernels by flavour (kernel-<flavour>)",
		Run: func(ctx context.Context, e *Env) error {
			s, err := e.Configured(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			o, err := sdkconf.Collect(ctx, s)
			if err != nil {
				return err
			}
			g := gate(e)
			var vs policy.Violations
			vs = append(vs, g.Repos(o.Repos, e.Target.Distribution.Arches)...)
			vs = append(vs, g.Packages(o.Packages, o.Repos)...)
			vs = append(vs, g.Kernels(o.Kernels, o.Repos, e.Target.Distribution.Arches)...)
			return vs.Err()
		},
	})
}

// coreIndex is a stand-in for a core's built RPMs, with what every
// Enterprise Linux core provides and owns: the gate on built RPMs judges
// a SIG's packages against it.
func coreIndex(e *Env) *readback.Index {
	release := e.Target.Distribution.Name + "-release"
	dep := func(names ...string) []plan.Dep {
		var out []plan.Dep
		for _, n := range names {
			out = append(out, plan.Dep{Name: n})
		}
		return out
	}
	own := func(kind readback.Kind, paths ...string) []readback.File {
		var out []readback.File
		for _, p := range paths {
			out = append(out, readback.File{Path: p, Kind: kind})
		}
		return out
	}
	return readback.NewIndex([]*readback.RPM{
		{Name: "filesystem", Files: own(readback.Dir, "/etc", "/usr", "/usr/bin", "/usr/lib", "/usr/lib64", "/usr/share", "/usr/share/doc", "/usr/share/licenses", "/opt")},
		{Name: "bash", Provides: dep("bash", "/bin/sh", "/bin/bash"), Files: own(readback.Regular, "/usr/bin/bash", "/usr/bin/sh")},
		{Name: "glibc", Provides: dep("glibc", "libc.so.6()(64bit)", "rtld(GNU_HASH)"), Files: own(readback.Regular, "/usr/lib64/libc.so.6")},
		{Name: "rpm", Provides: dep("rpm"), Files: own(readback.Regular, "/usr/bin/rpm")},
		{Name: "dnf", Provides: dep("dnf"), Files: own(readback.Regular, "/usr/bin/dnf")},
		{Name: release, Provides: dep(release, "system-release", "system-release(releasever)", "config("+release+")"),
			Files: own(readback.Regular, "/etc/os-release", "/etc/yum.repos.d/"+e.Target.Distribution.Name+".repo", "/etc/pki/rpm-gpg/RPM-GPG-KEY-"+e.Target.Distribution.Name)},
	}, coreNames...)
}

func gate(e *Env) *policy.Gate {
	names := map[string]bool{e.Target.Distribution.Name + "-release": true}
	for _, n := range coreNames {
		names[n] = true
	}
	return &policy.Gate{SIG: e.Target.SIG, Distro: e.Target.Distribution.Name, Core: policy.Core{Names: names}, Limits: policy.DefaultLimits}
}
