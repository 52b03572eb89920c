package srpm

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/quarrylinux/quarry/core/arch"
	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/toolchain"
)

// Loader reads the imported packages of a distribution for planning.
type Loader struct {
	Config   *config.Config
	Lock     *lock.Lock
	Store    *store.Store
	StateDir string
	Jobs     int
	// Extra are files the core adds to packages' SOURCES, by package.
	Extra map[string]map[string][]byte
	// Limits bound the sandboxes that make SRPMs and read specs.
	Limits sandbox.Limits
	// Buildroots are the pinned image digests by arch, which jobs build
	// in; nil in the cross mode (config build.toolchain: cross), where
	// they build with the host's cross compilers.
	Buildroots map[string]string
	// Roots are the unpacked images, by digest: the build host arch's
	// makes the SRPMs and reads the specs.
	Roots map[string]string

	envs    map[string]toolchain.Env
	envErrs map[string]error
}

// Envs describes every arch of the distribution, and noarch. An arch whose
// toolchain is missing has no Env; its error is returned by arch. They are
// worked out once per Loader (asking each compiler its version).
func (l *Loader) Envs() (map[string]toolchain.Env, map[string]error) {
	if l.envs != nil {
		return l.envs, l.envErrs
	}
	envs, errs := map[string]toolchain.Env{}, map[string]error{}
	host := plan.BuildHost(l.Config.ArchNames())
	for _, a := range append(l.Config.ArchNames(), arch.Noarch) {
		if l.Buildroots != nil {
			in := a
			if a == arch.Noarch {
				in = host
			}
			if d := l.Buildroots[in]; d != "" {
				envs[a] = toolchain.RootEnv(l.Config.Distribution, a, host, d)
			} else {
				errs[a] = fmt.Errorf("no buildroot image is pinned for %s (quarry buildroot pin %s)", in, in)
			}
			continue
		}
		e, err := toolchain.NewEnvOn(l.Config.Distribution, a, host)
		if err != nil {
			errs[a] = err
			continue
		}
		envs[a] = e
	}
	l.envs, l.envErrs = envs, errs
	return envs, errs
}

// Sources makes SRPMs and reads specs with the build host's settings:
// for the core's packages, and for SIGs'.
func (l *Loader) Sources() (*Sources, error) {
	// Specs are read, and SRPMs made, in the build host arch's root, or
	// by the host's rpm in the cross mode.
	host := plan.BuildHost(l.Config.ArchNames())
	targets := append(l.Config.ArchNames(), arch.Noarch)
	if l.Buildroots != nil {
		d := l.Buildroots[host]
		if d == "" {
			return nil, fmt.Errorf("no buildroot image is pinned for %s, where SRPMs are made (quarry buildroot pin %s)", host, host)
		}
		return &Sources{Store: l.Store, Limits: l.Limits, Env: toolchain.RootEnv(l.Config.Distribution, host, host, d), Root: l.Roots[d], Targets: targets}, nil
	}
	env, err := toolchain.NewEnvOn(l.Config.Distribution, host, host)
	if err != nil {
		return nil, err
	}
	return &Sources{Store: l.Store, Limits: l.Limits, Env: env, Targets: targets}, nil
}

// Load makes (or finds) every package's SRPM and reads its spec. A package
// whose SRPM cannot be made is a Problem, not an error.
func (l *Loader) Load(ctx context.Context) ([]*plan.Package, []plan.Problem, error) {
	srcs, err := l.Sources()
	if err != nil {
		return nil, nil, err
	}
	names := l.Config.Packages()
	pkgs := make([]*plan.Package, len(names))
	var (
		mu       sync.Mutex
		problems []plan.Problem
	)
	g, gctx := errgroup.WithContext(ctx)
	jobs := l.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	g.SetLimit(jobs)
	for i, name := range names {
		e := l.Lock.Packages[name]
		if e == nil {
			mu.Lock()
			problems = append(problems, plan.Problem{Package: name, Reason: "not imported: run quarry import"})
			mu.Unlock()
			continue
		}
		g.Go(func() error {
			src, err := srcs.Get(gctx, name, e.Tree, l.Extra[name])
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				mu.Lock()
				problems = append(problems, plan.Problem{Package: name, Reason: fmt.Sprint(err)})
				mu.Unlock()
				return nil
			}
			pkgs[i] = &plan.Package{Name: name, NVR: e.NVR, Tree: e.Tree, Source: src}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	sort.Slice(problems, func(i, j int) bool { return problems[i].Package < problems[j].Package })
	var out []*plan.Package
	for _, p := range pkgs {
		if p != nil {
			out = append(out, p)
		}
	}
	return out, problems, nil
}
