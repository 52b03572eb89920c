package worker_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/quarrylinux/quarry/core/blobs"
	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/dispatch"
	"github.com/quarrylinux/quarry/core/dispatch/dispatchtest"
	"github.com/quarrylinux/quarry/core/engine"
	"github.com/quarrylinux/quarry/core/engine/enginetest"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/toolchain"
	"github.com/quarrylinux/quarry/core/worker"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

var arches = []string{"x86_64", "aarch64", "ppc64le"}

// slow skips a test under go test -short (make test-unit): a real build
// in the x86_64 buildroot. make test runs it.
func slow(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow: a build in the buildroot (make test runs it)")
	}
}

// Workers build their own arch's jobs only, and the noarch jobs that
// build on their arch (x86_64's and aarch64's also those that name no
// build arch): an aarch64 job waits for an aarch64 worker while an
// x86_64 and a ppc64le one build everything else.
func TestWorkersPullTheirArch(t *testing.T) {
	ctx := context.Background()
	c := dispatchtest.New(t, engine.Options{Arches: arches})
	e, st := c.Coordinator()
	job := func(id, arch string) *build.Job { return dispatchtest.Job(t, st, id, arch) }
	x86 := c.Worker("x86", "x86_64", nil)
	c.Worker("ppc", "ppc64le", nil)
	arm := make(chan error, 1)
	go func() { _, err := e.Run(ctx, job("a/aarch64", "aarch64"), nil); arm <- err }()
	for _, j := range []*build.Job{job("a/x86_64", "x86_64"), job("a/noarch", "noarch"), job("a/ppc64le", "ppc64le")} {
		if _, err := e.Run(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
	}
	c.Worker("arm", "aarch64", nil)
	if err := <-arm; err != nil {
		t.Fatal(err)
	}
	x86.Stop()
	<-x86.Done
	if _, err := e.Run(ctx, job("b/noarch", "noarch"), nil); err != nil {
		t.Fatal(err)
	}
	// A noarch job that builds in ppc64le's buildroot (a ppc64le
	// coordinator's) is a ppc64le worker's, not the aarch64 one's.
	onPPC := job("c/noarch", "noarch")
	onPPC.Env.Build = "ppc64le"
	if _, err := e.Run(ctx, onPPC, nil); err != nil {
		t.Fatal(err)
	}
	built := map[string]string{}
	for _, r := range c.Runs() {
		if built[r.Job] != "" {
			t.Errorf("%s built twice", r.Job)
		}
		built[r.Job] = r.Worker
	}
	want := map[string]string{"a/x86_64": "x86", "a/noarch": "x86", "a/ppc64le": "ppc", "a/aarch64": "arm", "b/noarch": "arm", "c/noarch": "ppc"}
	for j, w := range want {
		if built[j] != w {
			t.Errorf("%s built by %q, want %q", j, built[j], w)
		}
	}
	if !slices.Equal(engine.Consumers("ppc64le"), []string{engine.Consumer("ppc64le"), engine.Consumer("noarch_ppc64le")}) {
		t.Errorf("a ppc64le worker pulls %v", engine.Consumers("ppc64le"))
	}
}

// A message that is no job (or no job of its subject's arch) is
// terminated with a log line, not retried, and the worker goes on.
func TestUndecodableMessageTerminated(t *testing.T) {
	ctx := context.Background()
	c := dispatchtest.New(t, engine.Options{Arches: arches})
	e, st := c.Coordinator()
	var logs fixtures.SyncBuffer
	for _, bad := range [][]byte{[]byte("not json"), []byte(`{"key":"00","round":1,"job":{"id":"x","arch":"x86_64"}}`)} {
		if _, err := c.Eng.JS.Publish(ctx, engine.Subject("x86_64"), bad); err != nil {
			t.Fatal(err)
		}
	}
	c.Start(&worker.Worker{Name: "w1", Arch: "x86_64", Log: hclog.New(&hclog.LoggerOptions{Output: &logs})},
		func(st *store.Store) build.Executor { return &failing{t} })
	// The worker reads in order, one job at a time: once this one is
	// taken the two before it were settled.
	job := dispatchtest.Job(t, st, "hello/x86_64", "x86_64")
	_, err := e.Run(ctx, job, nil)
	if err == nil || !strings.Contains(err.Error(), "the job that comes after") {
		t.Fatalf("got %v", err)
	}
	if n := strings.Count(logs.String(), "job message refused and terminated, not retried"); n != 2 {
		t.Errorf("%d messages terminated, want 2:\n%s", n, logs.String())
	}
	cons, _ := c.Eng.JS.Consumer(ctx, engine.JobsStream, engine.Consumer("x86_64"))
	if info, _ := cons.Info(ctx); info.NumRedelivered != 0 {
		t.Errorf("%d messages delivered again", info.NumRedelivered)
	}
}

// failing fails every job as a build does.
type failing struct{ t *testing.T }

func (f *failing) Run(_ context.Context, job *build.Job, _ io.Writer) (*build.Record, error) {
	return nil, &build.Error{Job: job.ID, Msg: "the job that comes after"}
}

// greetingJob is a real noarch job in the x86_64 buildroot, its SRPM in st.
func greetingJob(t *testing.T, st *store.Store, img *fixtures.Image) *build.Job {
	t.Helper()
	srpm, err := fixtures.BuildSRPM(t.TempDir(), "greeting", greetingSpec)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(srpm)
	d, _ := st.Put(data)
	env := toolchain.RootEnv(config.Distribution{Name: "pebble", DistTag: ".pbl9", Version: "9.4", Vendor: "Pebble", Packager: "Pebble", PrettyName: "Pebble"},
		"noarch", "x86_64", img.Digest)
	return &build.Job{ID: "greeting/noarch", Package: "greeting", Arch: "noarch", SRPM: build.Input{Name: filepath.Base(srpm), SHA256: d}, Env: env}
}

// checkGreeting fails t unless rec is greeting's build, kept in st.
func checkGreeting(t *testing.T, rec *build.Record, st *store.Store, log string) {
	t.Helper()
	if len(rec.Outputs) != 1 || rec.Outputs[0].Name != "greeting" || rec.Outputs[0].Arch != "noarch" || !st.Has(rec.Outputs[0].SHA256) {
		t.Errorf("outputs: %+v", rec.Outputs)
	}
	if !strings.Contains(log, "greeting from the buildroot") || !st.Has(rec.Log) {
		t.Errorf("the log: %q", log)
	}
}

// A real build: the worker's executor is build.Local in the x86_64
// buildroot, as in production; the coordinator gets a checked RPM.
func TestRealBuildOnAWorker(t *testing.T) {
	slow(t)
	img := fixtures.Buildroot(t, "x86_64")
	c := dispatchtest.New(t, engine.Options{Arches: arches})
	e, st := c.Coordinator()
	job := greetingJob(t, st, img)
	roots := map[string]string{img.Digest: img.Root}
	work := t.TempDir()
	c.Start(&worker.Worker{Name: "w1", Arch: "x86_64"}, func(st *store.Store) build.Executor {
		return &build.Local{Store: st, Work: work, Roots: roots}
	})
	var log bytes.Buffer
	rec, err := e.Run(context.Background(), job, &log)
	if err != nil {
		t.Fatal(err)
	}
	checkGreeting(t, rec, st, log.String())
}

// A worker without the job's buildroot fetches it by the coordinator's
// record and unpacks it only if it is the job's pin: a record naming
// another image (aarch64's, under x86_64's pin) fails every delivery,
// and the job is reported with each attempt's cause once they run out;
// the coordinator's PublishImage repairs the record, and the job builds.
func TestWorkerFetchesItsBuildroot(t *testing.T) {
	slow(t)
	ctx := context.Background()
	img := fixtures.Buildroot(t, "x86_64")
	other := filepath.Join(fixtures.Images(), "aarch64.tar.zst")
	c := dispatchtest.New(t, engine.Options{Arches: arches, MaxDeliver: 2})
	e, st := c.Coordinator()
	bs := &blobs.Objects{OS: c.Eng.Objects}
	job := greetingJob(t, st, img)

	data, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := bs.Put(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Put(ctx, c.Eng.State, engine.ImageKey(img.Digest), &engine.Image{Blob: blob, Size: int64(len(data)), Suffix: ".tar.zst", Arch: "x86_64"}); err != nil {
		t.Fatal(err)
	}
	work, cache, dir := t.TempDir(), t.TempDir(), t.TempDir()
	c.Start(&worker.Worker{Name: "w1", Arch: "x86_64"}, func(wst *store.Store) build.Executor {
		im := &worker.Images{KV: c.Eng.State, Blobs: bs, Store: wst, Dir: dir, Cache: cache}
		return &build.Local{Store: wst, Work: work, Find: im.Root}
	})
	_, err = e.Run(ctx, job, io.Discard)
	var ex *dispatch.ExhaustedError
	if !errors.As(err, &ex) || len(ex.Attempts) != 2 || !strings.Contains(err.Error(), "w1") {
		t.Fatalf("a job whose buildroot never unpacks: %v, want it exhausted after 2 deliveries on w1", err)
	}
	for _, a := range ex.Attempts {
		if !strings.Contains(a.Err, img.Digest) {
			t.Errorf("attempt %d: %q does not name the pin the image failed", a.Delivery, a.Err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(cache, "sha256-*[^k]")); len(left) != 0 {
		t.Errorf("the wrong image left %v in the cache", left) // its lock file aside
	}

	if err := dispatch.PublishImage(ctx, c.Eng.State, bs, img.Path, "x86_64", img.Digest); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	rec, err := e.Run(ctx, job, &log)
	if err != nil {
		t.Fatal(err)
	}
	checkGreeting(t, rec, st, log.String())
}

const greetingSpec = `Name: greeting
Version: 1.0
Release: 1
Summary: Greets
License: MIT
BuildArch: noarch
%description
Greets.
%build
echo greeting from the buildroot
%install
mkdir -p %{buildroot}/usr/share/greeting
echo hello > %{buildroot}/usr/share/greeting/README
%files
/usr/share/greeting/README
`

// A worker of an arch the coordinator builds for not at all is refused
// at start, with the arches there are.
func TestWorkerOfAnArchNoJobIsFor(t *testing.T) {
	c := dispatchtest.New(t, engine.Options{Arches: arches})
	js, _ := enginetest.Dial(t, c.Srv)
	st, _ := store.Open(t.TempDir())
	w := &worker.Worker{Name: "w1", Arch: "s390x", JS: js, Blobs: &blobs.Objects{OS: c.Eng.Objects}, Store: st, Exec: &failing{t}}
	err := w.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no job of the engine's is for s390x") || !strings.Contains(err.Error(), "x86_64") {
		t.Errorf("a worker for s390x: %v", err)
	}
}
