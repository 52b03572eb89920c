package main_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/testing/fixtures"
)

// natsServer builds nats-server from the module Quarry embeds it from,
// once per test binary.
var natsServer = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "quarry-nats-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "nats-server")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build nats-server: %v\n%s", err, out)
	}
	return bin, nil
})

// cluster is a 3-node JetStream cluster on 127.0.0.1.
type cluster struct {
	urls  []string
	nodes []*exec.Cmd
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startCluster starts three nats-server nodes (file storage, fsync of
// every write) and returns once JetStream has elected its metadata
// leader.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	bin, err := natsServer()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var client, route [3]int
	for i := range 3 {
		client[i], route[i] = freePort(t), freePort(t)
	}
	routes := make([]string, 3)
	for i := range 3 {
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", route[i])
	}
	c := &cluster{}
	leader := make(chan string, 3)
	for i := range 3 {
		conf := filepath.Join(dir, fmt.Sprintf("n%d.conf", i+1))
		text := fmt.Sprintf(`server_name: n%d
listen: 127.0.0.1:%d
jetstream { store_dir: %q, sync_interval: always }
cluster { name: quarry, listen: 127.0.0.1:%d, routes: [%s] }
`, i+1, client[i], filepath.Join(dir, fmt.Sprintf("n%d", i+1)), route[i], strings.Join(routes, ", "))
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-c", conf)
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, cmd)
		c.urls = append(c.urls, fmt.Sprintf("nats://127.0.0.1:%d", client[i]))
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				if strings.Contains(sc.Text(), "JetStream cluster new metadata leader") || strings.Contains(sc.Text(), "is new JetStream cluster metadata leader") {
					select {
					case leader <- sc.Text():
					default:
					}
				}
			}
		}()
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.Process.Kill()
			n.Wait()
		}
	})
	select {
	case <-leader:
	case <-time.After(2 * time.Minute):
		t.Fatal("the cluster elected no JetStream leader")
	}
	return c
}

func (c *cluster) url() string { return strings.Join(c.urls, ",") }

// streamLeader is the name (n1, n2, n3) of the node leading stream.
func (c *cluster) streamLeader(t *testing.T, stream string) string {
	t.Helper()
	nc, err := nats.Connect(c.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
		t.Fatalf("stream %s has no leader: %v", stream, err)
	}
	return info.Cluster.Leader
}

// kill kills node name (-9).
func (c *cluster) kill(t *testing.T, name string) {
	t.Helper()
	i, err := strconv.Atoi(strings.TrimPrefix(name, "n"))
	if err != nil || i < 1 || i > len(c.nodes) {
		t.Fatalf("no node %q", name)
	}
	c.nodes[i-1].Process.Kill()
	t.Logf("killed node %s, the leader", name)
}

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

func startWorker(t *testing.T, d *distro, c *cluster, arch string) *workerProc {
	t.Helper()
	cmd := exec.Command(quarryBin, "--config", d.config(), "--state", filepath.Join(d.dir, "worker-"+arch), "--log-level", "info",
		"worker", "--arch", arch, "--engine", c.url(), "--jobs", "2", "--name", "w-"+arch)
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
	t.Parallel()
	d := newDistro(t)
	d.only([]string{"libgreet", "greet", "greet-motd"}, []string{"libgreet", "greet", "greet-motd"})
	d.keyInit()
	d.mustRun("build")
	local := d.currentID()
	before := treeDigests(t, filepath.Join(d.out(), "current"))
	d.forgetBuilds()

	c := startCluster(t)
	d.appendConfig(fmt.Sprintf("build:\n  engine:\n    url: %s\n    replicas: 3\n    ack_wait: 20s\n", c.url()))
	// The coordinator first: it makes the streams the workers pull.
	build := d.command("--log-level", "info", "build", "--no-import")
	var stdout, stderr strings.Builder
	build.Stdout, build.Stderr = &stdout, &stderr
	if err := build.Start(); err != nil {
		t.Fatal(err)
	}
	workers := map[string]*workerProc{}
	for _, a := range []string{"x86_64", "aarch64", "ppc64le", "s390x"} {
		workers[a] = startWorker(t, d, c, a)
	}
	// The jobs stream's leader dies once the first job is built: the
	// other two nodes hold its replicas and elect another.
	workers["x86_64"].waitLine(t, builtJob, 0)
	leader := c.streamLeader(t, "QUARRY_JOBS")
	c.kill(t, leader)
	if err := build.Wait(); err != nil {
		for a, w := range workers {
			t.Logf("worker %s:\n%s", a, w.log.String())
		}
		t.Fatalf("build on the cluster: %v\n%s\n%s", err, stdout.String(), stderr.String())
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
	if !strings.Contains(stdout.String(), "nothing new") || d.currentID() != local {
		t.Errorf("the cluster's build published something new (%s, was %s): its RPMs differ from the local build's\n%s", d.currentID(), local, stdout.String())
	}
	sameTree(t, before, treeDigests(t, filepath.Join(d.out(), "current")))
}

// waitLine returns once a line of the worker's log after its first
// from matches re, and how many lines it has then.
func (w *workerProc) waitLine(t *testing.T, re *regexp.Regexp, from int) int {
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
	t.Parallel()
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
	c := startCluster(t)
	d.appendConfig(fmt.Sprintf("build:\n  engine:\n    url: %s\n    replicas: 3\n    ack_wait: 3s\n", c.url()))
	building := regexp.MustCompile(`building: .*job=slow/x86_64`)

	// A worker dies mid-build: another builds the job, the same bytes.
	build := d.command("build", "--no-import")
	var out strings.Builder
	build.Stdout, build.Stderr = &out, &out
	if err := build.Start(); err != nil {
		t.Fatal(err)
	}
	first := startWorker(t, d, c, "x86_64")
	first.waitLine(t, building, 0)
	first.cmd.Process.Kill()
	<-first.done
	second := startWorker(t, d, c, "x86_64")
	if err := build.Wait(); err != nil {
		t.Fatalf("the build after a worker died: %v\n%s\nsecond worker:\n%s", err, out.String(), second.log.String())
	}
	if got := second.built(); !slices.Contains(got, "slow/x86_64") {
		t.Errorf("the second worker built %v, not the job the first died building", got)
	}
	if !strings.Contains(out.String(), "nothing new") || d.currentID() != local {
		t.Errorf("after the redelivery the build published something new: the RPMs differ from the local build's\n%s", out.String())
	}

	// The coordinator dies mid-run, and starts again: a new greet-motd
	// that takes a while (slow is the engine's already).
	d.forgetBuilds()
	d.bump("greet-motd", func(p *fixtures.Package) {
		p.Spec = []byte(strings.Replace(string(p.Spec), "%build\n", "%build\nsleep 12\n", 1))
	})
	d.mustRun("import")
	seen, from := len(second.built()), second.lineCount()
	build = d.command("build", "--no-import")
	out.Reset()
	build.Stdout, build.Stderr = &out, &out
	if err := build.Start(); err != nil {
		t.Fatal(err)
	}
	second.waitLine(t, regexp.MustCompile(`building: .*job=greet-motd/noarch`), from)
	build.Process.Kill()
	build.Wait()
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
