package main_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/quarrylinux/quarry/testing/fixtures"
	"github.com/quarrylinux/quarry/testing/natscluster"
)

// startWorker starts quarry worker for arch, with a state of its own,
// and gathers the jobs its log says it built.
type workerProc struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	jobs  []string
	lines []string
	log   strings.Builder
	more  chan struct{} // a line came
	done  chan struct{}
}

var builtJob = regexp.MustCompile(`\bbuilt: .*\bjob=(\S+)`)

func startWorker(t *testing.T, d *distro, c *natscluster.Cluster, arch string) *workerProc {
	t.Helper()
	return startWorkerWith(t, d, c, arch, d.config())
}

// bareWorkerConfig is the build's config for a worker machine that has
// no buildroot image and an empty root cache of its own: it fetches the
// jobs' images from the engine.
func bareWorkerConfig(t *testing.T, d *distro, arch string) string {
	t.Helper()
	raw, err := os.ReadFile(d.config())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(raw), "\nbuild:\n") != 1 {
		t.Fatalf("the config has not one build: block:\n%s", raw)
	}
	bare := fmt.Sprintf("\nbuild:\n  buildroot:\n    cache: %s\n    images:\n      %s: %s\n", t.TempDir(), arch, filepath.Join(t.TempDir(), "none.tar.zst"))
	path := filepath.Join(filepath.Dir(d.config()), "worker-"+arch+".yaml") // its relative paths the same
	if err := os.WriteFile(path, []byte(strings.Replace(string(raw), "\nbuild:\n", bare, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func startWorkerWith(t *testing.T, d *distro, c *natscluster.Cluster, arch, config string) *workerProc {
	t.Helper()
	cmd := exec.Command(quarryBin, "--config", config, "--state", filepath.Join(d.dir, "worker-"+arch), "--log-level", "info",
		"worker", "--arch", arch, "--engine", c.URL(), "--jobs", "2", "--name", "w-"+arch)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &workerProc{cmd: cmd, more: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			w.mu.Lock()
			w.log.WriteString(sc.Text() + "\n")
			w.lines = append(w.lines, sc.Text())
			if m := builtJob.FindStringSubmatch(sc.Text()); m != nil {
				w.jobs = append(w.jobs, m[1])
			}
			w.mu.Unlock()
			select {
			case w.more <- struct{}{}:
			default:
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		<-w.done
	})
	return w
}

func (w *workerProc) built() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string{}, w.jobs...)
}

// The same jobs on a real 3-node JetStream cluster on loopback, one
// quarry worker process per arch: each worker builds only its arch's
// jobs (noarch ones on x86_64's); the jobs stream's leader node is
// killed mid-run and the run completes; and the RPMs, repodata and tree
// are those the local pool published (the publish finds nothing new).
func TestClusterBuildsTheSame(t *testing.T) {
	slow(t)
	// Not in parallel: three nodes fsyncing every write, beside other
	// builds, on a 2-core machine, answered too late for the engine's
	// timeouts (a 60 s stall seen). Serial tests run before the parallel ones.
	d := newDistro(t)
	d.only([]string{"libgreet", "greet", "greet-motd"}, []string{"libgreet", "greet", "greet-motd"})
	d.keyInit()
	d.mustRun("build")
	local := d.currentID()
	before := treeDigests(t, filepath.Join(d.out(), "current"))
	d.forgetBuilds()

	c := natscluster.Start(t)
	d.appendConfig(fmt.Sprintf("build:\n  engine:\n    url: %s\n    replicas: 3\n    ack_wait: 20s\n", c.URL()))
	// The coordinator first: it makes the streams the workers pull.
	build := start(t, d.command("--log-level", "info", "build", "--no-import"))
	workers := map[string]*workerProc{}
	for _, a := range []string{"x86_64", "aarch64", "ppc64le"} {
		workers[a] = startWorker(t, d, c, a)
	}
	// s390x's machine has no image: it fetches the one its jobs name.
	workers["s390x"] = startWorkerWith(t, d, c, "s390x", bareWorkerConfig(t, d, "s390x"))
	// The jobs stream's leader dies once the first job is built: the
	// other two nodes hold its replicas and elect another.
	workers["x86_64"].waitLine(t, builtJob, 0, build)
	leader := c.StreamLeader(t, "QUARRY_JOBS")
	c.Kill(t, leader)
	if err := build.wait(); err != nil {
		for a, w := range workers {
			t.Logf("worker %s:\n%s", a, w.log.String())
		}
		t.Fatalf("build on the cluster: %v\n%s", err, build.out.String())
	}
	// A job whose ack the dead leader never passed on may be built a
	// second time (a duplicate delivery: its outputs are the same bytes,
	// its result is recorded once); every job of the plan is built.
	jobs := map[string]bool{}
	for a, w := range workers {
		for _, j := range w.built() {
			jobs[j] = true
			want := "/" + a
			if a == "x86_64" && strings.HasSuffix(j, "/noarch") {
				want = "/noarch"
			}
			if !strings.HasSuffix(j, want) {
				t.Errorf("worker %s built %s", a, j)
			}
		}
		if len(w.built()) == 0 {
			t.Errorf("worker %s built nothing", a)
		}
	}
	if len(jobs) != 9 {
		t.Errorf("the workers built %d jobs, want the 9 of the plan: %v", len(jobs), jobs)
	}
	if !strings.Contains(build.out.String(), "nothing new") || d.currentID() != local {
		t.Errorf("the cluster's build published something new (%s, was %s): its RPMs differ from the local build's\n%s", d.currentID(), local, build.out.String())
	}
	sameTree(t, before, treeDigests(t, filepath.Join(d.out(), "current")))
	if !slices.ContainsFunc(workers["s390x"].lines, regexp.MustCompile(`buildroot unpacked: `).MatchString) {
		t.Errorf("the s390x worker did not unpack the image it fetched:\n%s", workers["s390x"].log.String())
	}
}

// started is a quarry command started, and its end.
type started struct {
	cmd  *exec.Cmd
	out  fixtures.SyncBuffer
	done chan struct{}
	err  error
}

// start starts cmd, its stdout and stderr in out.
func start(t *testing.T, cmd *exec.Cmd) *started {
	t.Helper()
	s := &started{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &s.out, &s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	return s
}

// wait is the command's end.
func (s *started) wait() error { <-s.done; return s.err }

// waitLine returns once a line of the worker's log after its first
// from matches re, and how many lines it has then.
func (w *workerProc) waitLine(t *testing.T, re *regexp.Regexp, from int, coordinator *started) int {
	t.Helper()
	for {
		w.mu.Lock()
		n := len(w.lines)
		found := slices.ContainsFunc(w.lines[min(from, n):], re.MatchString)
		w.mu.Unlock()
		if found {
			return n
		}
		select {
		case <-w.more:
		case <-w.done:
			t.Fatalf("the worker ended before its log said %s:\n%s", re, w.log.String())
		case <-coordinator.done:
			t.Fatalf("the coordinator ended (%v) before the worker's log said %s:\n%s\nworker:\n%s", coordinator.err, re, coordinator.out.String(), w.log.String())
		}
	}
}

func (w *workerProc) lineCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.lines)
}

// On the cluster, nothing finished is lost and nothing is built twice:
// a worker killed (-9) mid-build has its job given to another after the
// ack wait, which builds the same bytes; a coordinator killed mid-run
// and started again reuses the jobs already built and waits for the one
// still building instead of queueing it again.
func TestClusterSurvivesKills(t *testing.T) {
	slow(t)
	// Not in parallel: see TestClusterBuildsTheSame.
	d := newDistro(t)
	// A changelog, so that its RPM is reproducible (its date is the
	// build time's).
	slowPkg := misbehaving("slow", "", "sleep 12")
	slowPkg.Spec = append(slowPkg.Spec, "\n%changelog\n* Mon Jan 01 2024 Quarry Tests <tests@example.org> - 1-1\n- A build that takes a while.\n"...)
	d.publish(slowPkg)
	d.editConfig("arches: [x86_64, aarch64, ppc64le, s390x]", "arches: [x86_64]")
	d.only([]string{"slow", "greet-motd"}, []string{"slow", "greet-motd"})
	d.keyInit()
	d.mustRun("build")
	local := d.currentID()
	d.forgetBuilds()
	c := natscluster.Start(t)
	d.appendConfig(fmt.Sprintf("build:\n  engine:\n    url: %s\n    replicas: 3\n    ack_wait: 3s\n", c.URL()))
	building := regexp.MustCompile(`building: .*job=slow/x86_64`)

	// A worker dies mid-build: another builds the job, the same bytes.
	build := start(t, d.command("build", "--no-import"))
	first := startWorker(t, d, c, "x86_64")
	first.waitLine(t, building, 0, build)
	first.cmd.Process.Kill()
	<-first.done
	second := startWorker(t, d, c, "x86_64")
	if err := build.wait(); err != nil {
		t.Fatalf("the build after a worker died: %v\n%s\nsecond worker:\n%s", err, build.out.String(), second.log.String())
	}
	if got := second.built(); !slices.Contains(got, "slow/x86_64") {
		t.Errorf("the second worker built %v, not the job the first died building", got)
	}
	if !strings.Contains(build.out.String(), "nothing new") || d.currentID() != local {
		t.Errorf("after the redelivery the build published something new: the RPMs differ from the local build's\n%s", build.out.String())
	}

	// The coordinator dies mid-run, and starts again: a new greet-motd
	// that takes a while (slow is the engine's already).
	d.forgetBuilds()
	d.bump("greet-motd", func(p *fixtures.Package) {
		p.Spec = []byte(strings.Replace(string(p.Spec), "%build\n", "%build\nsleep 12\n", 1))
	})
	d.mustRun("import")
	seen, from := len(second.built()), second.lineCount()
	build = start(t, d.command("build", "--no-import"))
	second.waitLine(t, regexp.MustCompile(`building: .*job=greet-motd/noarch`), from, build)
	build.cmd.Process.Kill()
	build.wait()
	again, stderr, code := d.run("build", "--no-import")
	if code != 0 {
		t.Fatalf("the coordinator started again: exit %d\n%s%s", code, again, stderr)
	}
	counts := map[string]int{}
	for _, j := range second.built()[seen:] {
		counts[j]++
	}
	if counts["greet-motd/noarch"] != 1 || counts["slow/x86_64"] != 0 {
		t.Errorf("after the coordinator's restart the jobs were built %v times: want greet-motd once and slow not again\n%s", counts, second.log.String())
	}
	if !strings.Contains(again, "published compose") {
		t.Errorf("the restarted build published nothing:\n%s", again)
	}
}

// A job no delivery builds stops at the delivery limit: the only
// x86_64 worker cannot unpack a buildroot (its root cache is a file), so
// every delivery fails; after max_deliveries the build fails, naming the
// job, each attempt's worker and cause, and leaves what was published and
// the lock file as they were.
func TestClusterGivesUpAtTheDeliveryLimit(t *testing.T) {
	slow(t)
	// Not in parallel: see TestClusterBuildsTheSame.
	d := newDistro(t)
	d.editConfig("arches: [x86_64, aarch64, ppc64le, s390x]", "arches: [x86_64]")
	d.only([]string{"greet-motd"}, []string{"greet-motd"})
	d.keyInit()
	d.mustRun("build")
	published := treeDigests(t, d.out())
	lockBefore, err := os.ReadFile(d.lock())
	if err != nil {
		t.Fatal(err)
	}
	d.forgetBuilds()
	c := natscluster.Start(t)
	d.appendConfig(fmt.Sprintf("build:\n  engine:\n    url: %s\n    replicas: 3\n    max_deliveries: 3\n", c.URL()))
	config := bareWorkerConfig(t, d, "x86_64")
	raw, _ := os.ReadFile(config)
	broken := filepath.Join(t.TempDir(), "cache")
	os.WriteFile(broken, nil, 0o644)
	os.WriteFile(config, regexp.MustCompile(`cache: \S+`).ReplaceAll(raw, []byte("cache: "+broken)), 0o644)

	build := start(t, d.command("build", "--no-import"))
	w := startWorkerWith(t, d, c, "x86_64", config)
	if err := build.wait(); err == nil {
		t.Fatalf("the build succeeded with a worker that cannot build:\n%s\nworker:\n%s", build.out.String(), w.log.String())
	}
	out := build.out.String()
	for _, want := range []string{"greet-motd/noarch", "no delivery of 3 built it", "delivery 1 on worker w-x86_64", "delivery 3 on worker w-x86_64", "not a directory"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not say %q:\n%s\nworker:\n%s", want, out, w.log.String())
			break
		}
	}
	if strings.Contains(out, "delivery 4") {
		t.Errorf("the job was delivered past the limit:\n%s", out)
	}
	sameTree(t, published, treeDigests(t, d.out()))
	if after, _ := os.ReadFile(d.lock()); !bytes.Equal(after, lockBefore) {
		t.Error("the failed build changed the lock file")
	}
}
