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
	eng, err := engine.Setup(ctx, js, opts)
	if err != nil {
		return fail(err)
	}
	bs := &blobs.Objects{OS: eng.Objects}
	exec, err := dispatch.New(ctx, js, bs, p.Store, p.log())
	if err != nil {
		return fail(err)
	}
	stops = append(stops, exec.Close)
	if ec.Embedded() {
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		var wg sync.WaitGroup
		host, _ := os.Hostname()
		for _, a := range opts.Arches {
			w := &worker.Worker{Name: fmt.Sprintf("%s/embedded-%s", host, a), Arch: a, JS: js, Blobs: bs, Exec: local,
				Store: p.Store, Jobs: cmp.Or(jobs, runtime.NumCPU()), Roots: local.Roots, Log: p.log()}
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
// embedded engine is in the build's own process), its arch's buildroot
// unpacked here, every job in the same sandbox with the same limits as
// the local pool. It holds no key: signing stays with the coordinator.
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
	img := p.Config.ImageOf(o.Arch)
	d, err := p.Digests().Of(img, o.Arch)
	if err != nil {
		return fmt.Errorf("worker: buildroot %s: %w", o.Arch, err)
	}
	roots, err := p.UnpackRoots(map[string]*lock.Buildroot{o.Arch: {Image: img, Digest: d}})
	if err != nil {
		return fmt.Errorf("worker: buildroot %s: %w", o.Arch, err)
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
	// A cluster still electing, or busy with the coordinator's own
	// setup, may not answer at once: tried again for about two minutes.
	var eng *engine.Engine
	for try := 0; ; try++ {
		eng, err = engine.Open(ctx, js)
		if errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrBucketNotFound) {
			eng, err = engine.Setup(ctx, js, EngineOptions(p.Config))
		}
		if err == nil || ctx.Err() != nil || !engine.Transient(err) || try >= 7 {
			break
		}
		wait := time.Second << try
		p.log().Warn("the engine did not answer: trying again", "in", wait, "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
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
	local := &build.Local{Store: p.Store, Work: work, Limits: p.BuildLimits(), Roots: roots}
	w := &worker.Worker{Name: o.Name, Arch: o.Arch, JS: js, Blobs: &blobs.Objects{OS: eng.Objects}, Exec: local,
		Store: p.Store, Jobs: cmp.Or(o.Jobs, runtime.NumCPU()), Roots: roots, Log: p.log()}
	p.log().Info("worker ready", "worker", o.Name, "arch", o.Arch, "buildroot", d, "engine", nc.ConnectedUrlRedacted())
	return w.Run(ctx)
}

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
