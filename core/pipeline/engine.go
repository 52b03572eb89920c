package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/core/blobs"
	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/dispatch"
	"github.com/quarrylinux/quarry/core/engine"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/core/worker"
)

// engineExec is the executor build.engine names, and how to stop it: nil
// when the jobs run on this machine's pool. With the embedded engine
// the workers are in this process too, one per arch, building with
// local (the same sandbox, limits and buildroots as the pool).
func (p *Pipeline) engineExec(ctx context.Context, local *build.Local, jobs int) (build.Executor, func(), error) {
	ec := p.Config.Build.Engine
	if !ec.Distributed() {
		return nil, func() {}, nil
	}
	var stops []func()
	stop := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	fail := func(err error) (build.Executor, func(), error) {
		stop()
		return nil, nil, fmt.Errorf("build.engine %s: %w", ec.URL, err)
	}
	js, err := p.connectEngine(ec, &stops)
	if err != nil {
		return fail(err)
	}
	opts := EngineOptions(p.Config)
	eng, err := p.setupEngine(ctx, js, false)
	if err != nil {
		return fail(err)
	}
	bs := &blobs.Objects{OS: eng.Objects}
	exec, err := dispatch.New(ctx, js, bs, p.Store, p.log())
	if err != nil {
		return fail(err)
	}
	stops = append(stops, exec.Close)
	if !ec.Embedded() {
		if err := p.publishImages(ctx, eng, bs); err != nil {
			return fail(err)
		}
	}
	if ec.Embedded() {
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		var wg sync.WaitGroup
		host, _ := os.Hostname()
		// --jobs bounds the jobs of all arches together, as in a local
		// build (at least one each).
		n := max(len(opts.Arches), 1)
		each := max(1, (cmp.Or(jobs, runtime.NumCPU())+n-1)/n)
		for _, a := range opts.Arches {
			w := &worker.Worker{Name: fmt.Sprintf("%s/embedded-%s", host, a), Arch: a, JS: js, Blobs: bs, Exec: local,
				Store: p.Store, Jobs: each, Log: p.log()}
			wg.Go(func() {
				if err := w.Run(wctx); err != nil {
					p.log().Error("embedded worker", "arch", a, "error", err)
				}
			})
		}
		stops = append(stops, func() { cancel(); wg.Wait() })
	}
	p.log().Info("jobs run on the engine", "engine", ec.URL, "replicas", opts.Replicas, "arches", opts.Arches)
	return exec, stop, nil
}

// setupEngine makes the engine's streams, bucket and store as the
// config says (engine.Setup), or with open opens what is there first. A
// cluster still electing, or busy with another process's setup, may not
// answer at once: it is tried again for about two minutes.
func (p *Pipeline) setupEngine(ctx context.Context, js jetstream.JetStream, open bool) (*engine.Engine, error) {
	var eng *engine.Engine
	err := engine.Retry(ctx, 8, 2*time.Minute, func(wait time.Duration, err error) {
		p.log().Warn("the engine did not answer: trying again", "in", wait, "error", err)
	}, func() (err error) {
		err = jetstream.ErrStreamNotFound
		if open {
			eng, err = engine.Open(ctx, js)
		}
		if errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrBucketNotFound) {
			eng, err = engine.Setup(ctx, js, EngineOptions(p.Config))
		}
		return err
	})
	return eng, err
}

// publishImages puts every arch's buildroot image where the workers
// that lack it fetch it (a worker in the embedded engine has them all).
func (p *Pipeline) publishImages(ctx context.Context, eng *engine.Engine, bs blobs.Store) error {
	if p.Config.Cross() {
		return nil
	}
	for _, a := range p.Config.ArchNames() {
		if a == engine.Noarch {
			continue
		}
		img := p.Config.ImageOf(a)
		d, err := p.Digests().Of(img, a)
		if err != nil {
			return fmt.Errorf("buildroot %s: %w", a, err)
		}
		p.log().Debug("publishing buildroot to the engine", "arch", a, "digest", d)
		if err := dispatch.PublishImage(ctx, eng.State, bs, img, a, d); err != nil {
			return err
		}
	}
	return nil
}

// connectEngine starts the embedded server or connects to the cluster.
func (p *Pipeline) connectEngine(ec config.Engine, stops *[]func()) (jetstream.JetStream, error) {
	if ec.Embedded() {
		srv, err := engine.Embedded(p.Layout.Engine(), p.log())
		if err != nil {
			return nil, err
		}
		*stops = append(*stops, srv.Close)
		return srv.JetStream()
	}
	nc, err := ConnectEngine(p.Config, p.log())
	if err != nil {
		return nil, err
	}
	*stops = append(*stops, nc.Close)
	return jetstream.New(nc)
}

// ConnectEngine connects to the config's cluster engine, with its
// credentials when it names them (quarry worker does the same).
func ConnectEngine(c *config.Config, log hclog.Logger) (*nats.Conn, error) {
	var opts []nats.Option
	if f := c.Build.Engine.Credentials; f != "" {
		opts = append(opts, nats.UserCredentials(c.Resolve(f)))
	}
	return engine.Connect(c.Build.Engine.URL, log, opts...)
}

// EngineOptions are the engine's settings from the config, with the
// defaults of an embedded server or a cluster.
func EngineOptions(c *config.Config) engine.Options {
	ec := c.Build.Engine
	o := engine.Options{Replicas: ec.Replicas, AckWait: ec.AckWait, MaxDeliver: ec.MaxDeliveries}
	if o.Replicas == 0 && !ec.Embedded() {
		o.Replicas = 3
	}
	for _, a := range c.ArchNames() {
		if a != engine.Noarch {
			o.Arches = append(o.Arches, a)
		}
	}
	return o
}

// WorkerOptions are one quarry worker's.
type WorkerOptions struct {
	Arch string
	Name string // in attempts and failures (default: host/arch)
	Jobs int    // at once (default: the number of cores)
}

// Worker builds the engine's jobs of one arch on this machine until ctx
// ends: the engine the config names (a cluster's: a worker of the
// embedded engine is in the build's own process), in the buildroot each
// job is pinned to (the config's image if it is here and the pin, else
// fetched from the engine by digest), every job in the same sandbox with
// the same limits as the local pool. It holds no key: signing stays with the coordinator.
func (p *Pipeline) Worker(ctx context.Context, o WorkerOptions) error {
	ec := p.Config.Build.Engine
	if !ec.Distributed() || ec.Embedded() {
		return fmt.Errorf("worker: build.engine must be a cluster's URL (nats://...), not %q: the embedded engine's workers run inside quarry build", ec.URL)
	}
	if err := engine.CheckArch(o.Arch); err != nil || o.Arch == engine.Noarch {
		return fmt.Errorf("worker: --arch %q: one of %s", o.Arch, strings.Join(config.KnownArches, ", "))
	}
	if o.Name == "" {
		host, _ := os.Hostname()
		o.Name = host + "/" + o.Arch
	}
	if !workerName.MatchString(o.Name) {
		return fmt.Errorf("worker: --name %q: letters, digits and ._/- only", o.Name)
	}
	roots, err := p.workerRoots(o.Arch)
	if err != nil {
		return err
	}
	nc, err := ConnectEngine(p.Config, p.log())
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	// What the coordinator made, as it made it; a worker that comes
	// first makes it as the config says (the coordinator's file).
	eng, err := p.setupEngine(ctx, js, true)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	// A folder of its own, by name and locked (a build over the same
	// state cleans its own work folder, and two workers may share a
	// state), redone from scratch as a build's is; and the sandboxes a
	// killed one left mounted are taken down.
	dir := p.Layout.Worker(o.Name)
	unlock, err := lockDir(dir)
	if err != nil {
		return fmt.Errorf("worker %s: %w", o.Name, err)
	}
	defer unlock()
	work := filepath.Join(dir, "work")
	if err := os.RemoveAll(work); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	if err := sandbox.SweepSlots(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	bs := &blobs.Objects{OS: eng.Objects}
	images := &worker.Images{KV: eng.State, Blobs: bs, Store: p.Store, Dir: filepath.Join(dir, "images"), Cache: p.Config.RootCache(), Log: p.log()}
	local := &build.Local{Store: p.Store, Work: work, Limits: p.BuildLimits(), Roots: roots, Find: images.Root}
	w := &worker.Worker{Name: o.Name, Arch: o.Arch, JS: js, Blobs: bs, Exec: local,
		Store: p.Store, Jobs: cmp.Or(o.Jobs, runtime.NumCPU()), Log: p.log(), RetryDelay: retryDelay}
	p.log().Info("worker ready", "worker", o.Name, "arch", o.Arch, "engine", nc.ConnectedUrlRedacted())
	return w.Run(ctx)
}

// workerRoots unpacks the arch's image the worker's config names, if
// it is on this machine: a job pinned to it builds at once. Any other
// (or none here) is fetched from the engine by the pin a job names.
func (p *Pipeline) workerRoots(arch string) (map[string]string, error) {
	img := p.Config.ImageOf(arch)
	d, err := p.Digests().Of(img, arch)
	if errors.Is(err, os.ErrNotExist) {
		p.log().Info("no buildroot image here: the jobs' are fetched from the engine by digest", "arch", arch, "image", img)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("worker: buildroot %s: %w", arch, err)
	}
	roots, err := p.UnpackRoots(map[string]*lock.Buildroot{arch: {Image: img, Digest: d}})
	if err != nil {
		return nil, fmt.Errorf("worker: buildroot %s: %w", arch, err)
	}
	return roots, nil
}

// retryDelay is how long a job that failed on a worker for the
// machine's or the engine's sake waits for its next delivery: not at
// once, or a few seconds of trouble (a leader being elected) would use
// up every delivery it has.
const retryDelay = 5 * time.Second

var workerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$`)

// lockDir takes dir for this process, or says who has it.
func lockDir(dir string) (func(), error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another worker of this name runs over %s", dir)
	}
	return func() { f.Close() }, nil
}
