package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/core/blobs"
	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/dispatch"
	"github.com/quarrylinux/quarry/core/dispatch/dispatchtest"
	"github.com/quarrylinux/quarry/core/engine"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/worker"
	"github.com/quarrylinux/quarry/testing/natscluster"
)

// BenchmarkEngineCluster measures the scale-out path on a real 3-node
// JetStream cluster on loopback (natscluster: replicas 3, every write
// fsynced), through the coordinator's dispatch.Executor and real
// worker.Workers; a job's build is a stand-in that sleeps and returns a
// real RPM, so that what is timed is the engine, not rpmbuild. It
// reports:
//   - dispatch latency, a job ready (Run called) to a worker starting
//     it, p50 and p95 (goal: p50 under 20 ms), and as a ratio to a plain
//     NATS request-reply round trip on the same cluster;
//   - scheduling efficiency of a 1,000-job graph with 1, 2 and 4 workers
//     of 2 slots: wall ÷ max(critical path, work ÷ slots) (goal ≤ 1.15),
//     and the jobs per second the engine went through with 4;
//   - the time from a worker's death to its job running again, as a
//     ratio to the ack wait (goal: under 2);
//   - the coordinator's memory with 100,000 jobs queued.
func BenchmarkEngineCluster(b *testing.B) {
	ctx := context.Background()
	c := natscluster.Start(b)
	js := dial(b, c)
	eng, err := engine.Setup(ctx, js, engine.Options{Arches: []string{"x86_64", "s390x"}, Replicas: 3, AckWait: 2 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	exec, err := dispatch.New(ctx, js, &blobs.Objects{OS: eng.Objects}, st, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer exec.Close()
	srpm, err := st.Put([]byte("a stand-in SRPM"))
	if err != nil {
		b.Fatal(err)
	}
	jobs := &jobMaker{srpm: srpm}
	b.ResetTimer()
	for range b.N {
		p50, p95, rtt := dispatchLatency(b, c, exec, jobs)
		b.ReportMetric(ms(p50), "ms-dispatch-p50(goal<20)")
		b.ReportMetric(ms(p95), "ms-dispatch-p95")
		b.ReportMetric(float64(p50)/float64(rtt), "x-nats-request-rtt")
		for _, n := range []int{1, 2, 4} {
			eff, rate := graphEfficiency(b, c, exec, jobs, n)
			b.ReportMetric(eff, fmt.Sprintf("x-ideal-%dworkers(goal<=1.15)", n))
			if n == 4 {
				b.ReportMetric(rate, "jobs/s-4workers")
			}
		}
		b.ReportMetric(deathToRerun(b, c, exec, jobs).Seconds()/2, "x-ack-wait-death-to-rerun(goal<2)")
		b.ReportMetric(queuedMemory(b, exec, jobs, 100_000)/(1<<20), "MiB-coordinator-100k-queued")
	}
}

func dial(b *testing.B, c *natscluster.Cluster) jetstream.JetStream {
	nc, err := nats.Connect(c.URL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	return js
}

// jobMaker makes distinct jobs (distinct keys) over one SRPM.
type jobMaker struct {
	srpm string
	mu   sync.Mutex
	n    int
}

func (m *jobMaker) job(arch string) *build.Job {
	m.mu.Lock()
	m.n++
	n := m.n
	m.mu.Unlock()
	j := &build.Job{ID: fmt.Sprintf("p%d/%s", n, arch), Package: fmt.Sprintf("p%d", n), Arch: arch,
		SRPM: build.Input{Name: "p-1-1.src.rpm", SHA256: m.srpm}}
	j.Env.Arch, j.Env.Toolchain = arch, fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), n)
	return j
}

// stand is the workers' stand-in executor: it says when a job starts,
// waits, and returns a real RPM.
type stand struct {
	st      *store.Store
	wait    func(ctx context.Context, job *build.Job) error
	started func(job *build.Job)
}

func (s *stand) Run(ctx context.Context, job *build.Job, _ io.Writer) (*build.Record, error) {
	if s.started != nil {
		s.started(job)
	}
	if s.wait != nil {
		if err := s.wait(ctx, job); err != nil {
			return nil, err
		}
	}
	rpm, err := dispatchtest.RPM()
	if err != nil {
		return nil, err
	}
	d, _ := s.st.Put(rpm)
	logd, _ := s.st.Put([]byte("built " + job.ID))
	now := time.Now().UTC()
	return &build.Record{Key: job.Key(), Job: *job, Start: now, End: now, Log: logd,
		Outputs: []build.Output{{File: "hello-1.0-1.noarch.rpm", SHA256: d, Name: "hello", Arch: "noarch", EVR: "1.0-1"}}}, nil
}

// startWorkers starts n x86_64 workers of slots slots, each on its own
// connection; stop stops them, kill closes one's connection first (its
// jobs are neither acked nor handed back: it died).
func startWorkers(b *testing.B, c *natscluster.Cluster, n, slots int, s func(st *store.Store) *stand) (stop func(), kill func(i int)) {
	var wg sync.WaitGroup
	var cancels []context.CancelFunc
	var conns []*nats.Conn
	for i := range n {
		nc, err := nats.Connect(c.URL())
		if err != nil {
			b.Fatal(err)
		}
		js, _ := jetstream.New(nc)
		eng, err := engine.Open(context.Background(), js)
		if err != nil {
			b.Fatal(err)
		}
		st, _ := store.Open(b.TempDir())
		ctx, cancel := context.WithCancel(context.Background())
		w := &worker.Worker{Name: fmt.Sprintf("w%d", i), Arch: "x86_64", JS: js, Blobs: &blobs.Objects{OS: eng.Objects},
			Exec: s(st), Store: st, Jobs: slots, Log: hclog.NewNullLogger()}
		wg.Go(func() { w.Run(ctx) })
		cancels, conns = append(cancels, cancel), append(conns, nc)
	}
	stop = func() {
		for i := range cancels {
			cancels[i]()
		}
		wg.Wait()
		for _, nc := range conns {
			nc.Close()
		}
	}
	kill = func(i int) { conns[i].Close(); cancels[i]() }
	return stop, kill
}

// dispatchLatency runs 200 jobs one after the other on one idle worker
// and times each from Run to the worker's start; the baseline is a
// plain NATS request and its reply across the same cluster.
func dispatchLatency(b *testing.B, c *natscluster.Cluster, exec *dispatch.Executor, jobs *jobMaker) (p50, p95, rtt time.Duration) {
	var mu sync.Mutex
	starts := map[string]time.Time{}
	stop, _ := startWorkers(b, c, 1, 1, func(st *store.Store) *stand {
		return &stand{st: st, started: func(j *build.Job) { mu.Lock(); starts[j.ID] = time.Now(); mu.Unlock() }}
	})
	defer stop()
	var lat []time.Duration
	for range 200 {
		j := jobs.job("x86_64")
		t0 := time.Now()
		if _, err := exec.Run(context.Background(), j, nil); err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		lat = append(lat, starts[j.ID].Sub(t0))
		mu.Unlock()
	}
	slices.Sort(lat)

	a, _ := nats.Connect(c.URL())
	defer a.Close()
	z, _ := nats.Connect(c.URL())
	defer z.Close()
	sub, _ := z.Subscribe("bench.echo", func(m *nats.Msg) { m.Respond(m.Data) })
	defer sub.Unsubscribe()
	z.Flush()
	// The subscription reaches the other nodes over their routes a
	// moment later: until then a request has no responders.
	for {
		_, err := a.Request("bench.echo", []byte("ping"), 5*time.Second)
		if err == nil {
			break
		}
		if !errors.Is(err, nats.ErrNoResponders) {
			b.Fatal(err)
		}
	}
	var rtts []time.Duration
	for range 200 {
		t0 := time.Now()
		if _, err := a.Request("bench.echo", []byte("ping"), 5*time.Second); err != nil {
			b.Fatal(err)
		}
		rtts = append(rtts, time.Since(t0))
	}
	slices.Sort(rtts)
	return lat[len(lat)/2], lat[len(lat)*95/100], rtts[len(rtts)/2]
}

// graphEfficiency runs a 1,000-job graph (20 layers of 50 jobs of 200 ms,
// each after two jobs of the layer before) on n workers of 2 slots, every
// ready job queued at once as the pipeline queues them, and returns wall
// ÷ max(critical path, work ÷ slots), and the jobs it ran per second.
func graphEfficiency(b *testing.B, c *natscluster.Cluster, exec *dispatch.Executor, jobs *jobMaker, n int) (float64, float64) {
	const layers, width, each = 20, 50, 200 * time.Millisecond
	stop, _ := startWorkers(b, c, n, 2, func(st *store.Store) *stand {
		return &stand{st: st, wait: func(ctx context.Context, _ *build.Job) error {
			select {
			case <-time.After(each):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}}
	})
	defer stop()
	rng := rand.New(rand.NewPCG(1, 2))
	type node struct {
		deps    []int
		waiting int
		users   []int
	}
	nodes := make([]node, layers*width)
	for l := 1; l < layers; l++ {
		for i := range width {
			id := l*width + i
			for _, d := range []int{(l-1)*width + rng.IntN(width), (l-1)*width + rng.IntN(width)} {
				if !slices.Contains(nodes[id].deps, d) {
					nodes[id].deps = append(nodes[id].deps, d)
					nodes[d].users = append(nodes[d].users, id)
				}
			}
			nodes[id].waiting = len(nodes[id].deps)
		}
	}
	done := make(chan int, len(nodes))
	run := func(id int) {
		go func() {
			if _, err := exec.Run(context.Background(), jobs.job("x86_64"), nil); err != nil {
				b.Error(err)
			}
			done <- id
		}()
	}
	start := time.Now()
	for id := range width {
		run(id)
	}
	for range nodes {
		id := <-done
		for _, u := range nodes[id].users {
			if nodes[u].waiting--; nodes[u].waiting == 0 {
				run(u)
			}
		}
	}
	wall := time.Since(start)
	ideal := max(time.Duration(layers)*each, time.Duration(len(nodes))*each/time.Duration(2*n))
	return wall.Seconds() / ideal.Seconds(), float64(len(nodes)) / wall.Seconds()
}

// deathToRerun kills a worker (its connection closed: it neither acks
// nor hands back) while it builds a job, five times, and returns the
// longest time from the death to a new worker starting that job.
func deathToRerun(b *testing.B, c *natscluster.Cluster, exec *dispatch.Executor, jobs *jobMaker) time.Duration {
	var worst time.Duration
	for range 5 {
		started := make(chan struct{}, 1)
		stopA, kill := startWorkers(b, c, 1, 1, func(st *store.Store) *stand {
			return &stand{st: st, started: func(*build.Job) { started <- struct{}{} }, wait: func(ctx context.Context, _ *build.Job) error {
				<-ctx.Done() // builds until it dies
				return ctx.Err()
			}}
		})
		ran := make(chan error, 1)
		go func() { _, err := exec.Run(context.Background(), jobs.job("x86_64"), nil); ran <- err }()
		<-started
		died := time.Now()
		kill(0)
		stopA()
		again := make(chan time.Time, 1)
		stopB, _ := startWorkers(b, c, 1, 1, func(st *store.Store) *stand {
			return &stand{st: st, started: func(*build.Job) { again <- time.Now() }}
		})
		t := <-again
		if err := <-ran; err != nil {
			b.Fatal(err)
		}
		stopB()
		worst = max(worst, t.Sub(died))
	}
	return worst
}

// queuedMemory queues n jobs for an arch no worker pulls, as the pipeline
// would with n ready jobs, and returns the coordinator's memory (heap and
// goroutine stacks after a GC) once all are queued, less what it was.
func queuedMemory(b *testing.B, exec *dispatch.Executor, jobs *jobMaker, n int) float64 {
	inuse := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse + m.StackInuse
	}
	before := inuse()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	queued := make(chan struct{}, n)
	exec.Queued = func() { queued <- struct{}{} }
	defer func() { exec.Queued = nil }()
	for range n {
		j := jobs.job("s390x")
		wg.Go(func() { exec.Run(ctx, j, nil) })
	}
	for range n {
		<-queued
	}
	mem := inuse() - before
	cancel()
	wg.Wait()
	return float64(mem)
}
