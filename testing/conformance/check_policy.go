package conformance

import (
	"context"

	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/readback"
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

// coreIndex is a stand-in for a core's built RPMs, with what every
// Enterprise Linux core provides and owns: the gate on built RPMs judges
// a SIG's packages against it.
func coreIndex(e *env) *readback.Index {
	release := e.target.Distribution.Name + "-release"
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
			Files: own(readback.Regular, "/etc/os-release", "/etc/yum.repos.d/"+e.target.Distribution.Name+".repo", "/etc/pki/rpm-gpg/RPM-GPG-KEY-"+e.target.Distribution.Name)},
	}, coreNames...)
}

func gate(e *env) *policy.Gate {
	names := map[string]bool{e.target.Distribution.Name + "-release": true}
	for _, n := range coreNames {
		names[n] = true
	}
	return &policy.Gate{SIG: e.target.SIG, Distro: e.target.Distribution.Name, Core: policy.Core{Names: names}, Limits: policy.DefaultLimits}
}
