package conformance

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/quarrylinux/quarry/core/arch"
	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/readback"
	"github.com/quarrylinux/quarry/core/srpm"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/toolchain"
	"github.com/quarrylinux/quarry/plugins/intake"
	"github.com/quarrylinux/quarry/plugins/policy"
	sdkconf "github.com/quarrylinux/quarry/sdk/conformance"
)

func init() {
	register(sdkconf.Check{
		Name:  "builds",
		Why:   "the packages the plugin declares build with the core's builder (rpmbuild in the sandbox) for the build host's arch, and what their specs make, and then what was built (read back from each RPM), passes the gate",
		Level: Full,
		Needs: []string{"policy"},
		Run:   buildCheck,
	})
}

func buildCheck(ctx context.Context, e *Env) error {
	s, err := e.Configured(ctx)
	if err != nil {
		return err
	}
	o, err := sdkconf.Collect(ctx, s)
	s.Close()
	if err != nil {
		return err
	}
	pkgs := o.Packages
	flavours := map[string]string{}
	for _, k := range o.Kernels {
		p := intake.KernelPackage(k)
		flavours[p.Name] = k.Flavour
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		return nil
	}
	// Nothing reaches a file system before the gate has seen its paths.
	g := gate(e)
	if err := g.Packages(o.Packages, o.Repos).Err(); err != nil {
		return err
	}
	if err := g.Kernels(o.Kernels, o.Repos, e.Target.Distribution.Arches).Err(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "quarry-conformance-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(filepath.Join(dir, "store"))
	if err != nil {
		return err
	}
	d := e.Target.Distribution
	dist := config.Distribution{Name: d.Name, PrettyName: d.PrettyName, Version: d.Version, DistTag: d.DistTag, Vendor: "Conformance", Packager: "Conformance <conformance@quarry.example>"}
	host := arch.Host()
	envs := map[string]toolchain.Env{}
	for _, a := range []string{host, arch.Noarch} {
		if envs[a], err = toolchain.NewEnv(dist, a); err != nil {
			return err
		}
	}
	srcs := &srpm.Sources{Store: st, Env: envs[host], Targets: []string{host, arch.Noarch}}
	var planned []*plan.Package
	for _, p := range pkgs {
		if p.Git != nil {
			continue // fetched by the host at build time; its files are not here
		}
		tree, err := intake.SourceTree(p.Spec, p.Files)
		if err != nil {
			return sdkconf.Errorf("package %s: %v", p.Name, err)
		}
		digest, err := st.PutTree(tree)
		if err != nil {
			return err
		}
		src, err := srcs.Get(ctx, p.Name, digest, nil)
		if err != nil {
			return sdkconf.Errorf("package %s: %v", p.Name, err)
		}
		var bins []plan.Binary
		for _, a := range slices.Sorted(maps.Keys(src.Binaries)) {
			bins = append(bins, src.Binaries[a]...)
		}
		if err := g.Binaries(p.Name, bins, flavours[p.Name]).Err(); err != nil {
			return err
		}
		planned = append(planned, &plan.Package{Name: p.Name, Tree: digest, Source: src, Owner: e.Target.SIG})
	}
	pl := plan.Make(plan.Input{Arches: []string{host}, Packages: planned, Host: toolchain.DetectHost()})
	var problems []string
	for _, pr := range pl.Problems {
		problems = append(problems, pr.String())
	}
	if len(problems) > 0 {
		return sdkconf.Errorf("cannot build: %s", strings.Join(problems, "; "))
	}
	// The host's executor refuses an RPM no spec declared; then what was
	// built is judged as the host judges it, against a core's stand-in.
	rd := &readback.Reader{Store: st}
	b := &build.Builder{Plan: pl, Envs: envs, Cache: &build.Cache{Dir: filepath.Join(dir, "cache"), Store: st},
		Exec: &readback.Checked{Exec: &build.Local{Store: st, Work: filepath.Join(dir, "jobs")}, Reader: rd, Declared: readback.PlanDeclared(pl)}}
	res, err := b.Run(ctx)
	if err != nil {
		return err
	}
	if err := res.Err(); err != nil {
		return err
	}
	var rpms []*readback.RPM
	for _, id := range slices.Sorted(maps.Keys(res.Records)) {
		got, err := rd.Job(res.Records[id])
		if err != nil {
			return err
		}
		rpms = append(rpms, got...)
	}
	return g.Built(rpms, policy.Built{Core: coreIndex(e), Flavours: flavours}).Err()
}
