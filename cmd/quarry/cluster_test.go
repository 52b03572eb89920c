package main_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
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

// startWorker starts quarry worker for arch, with a state of its own,
// and gathers the jobs its log says it built.
type workerProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	jobs []string
	log  strings.Builder
	done chan struct{}
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
	w := &workerProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			w.mu.Lock()
			w.log.WriteString(sc.Text() + "\n")
			if m := builtJob.FindStringSubmatch(sc.Text()); m != nil {
				w.jobs = append(w.jobs, m[1])
			}
			w.mu.Unlock()
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
// jobs (noarch ones on x86_64's), and the RPMs, repodata and tree are
// those the local pool published (the publish finds nothing new).
func TestClusterBuildsTheSame(t *testing.T) {
	slow(t)
	t.Parallel()
	d := newDistro(t)
	d.only([]string{"libgreet", "greet", "greet-motd"}, []string{"libgreet", "greet", "greet-motd"})
	d.keyInit()
	d.mustRun("build")
	local := d.currentID()
	before := treeDigests(t, filepath.Join(d.out(), "current"))
	for _, dir := range []string{"records", "latest"} {
		os.RemoveAll(filepath.Join(d.state, "build", dir))
	}

	c := startCluster(t)
	raw, _ := os.ReadFile(d.config())
	d.writeConfig(string(raw) + fmt.Sprintf("\nbuild:\n  engine:\n    url: %s\n    replicas: 3\n    ack_wait: 20s\n", c.url()))
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
	if err := build.Wait(); err != nil {
		for a, w := range workers {
			t.Logf("worker %s:\n%s", a, w.log.String())
		}
		t.Fatalf("build on the cluster: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	total := 0
	for a, w := range workers {
		for _, j := range w.built() {
			total++
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
	if total != 9 {
		t.Errorf("the workers built %d jobs, want the 9 of the plan", total)
	}
	if !strings.Contains(stdout.String(), "nothing new") || d.currentID() != local {
		t.Errorf("the cluster's build published something new (%s, was %s): its RPMs differ from the local build's\n%s", d.currentID(), local, stdout.String())
	}
	after := treeDigests(t, filepath.Join(d.out(), "current"))
	for f, sum := range before {
		if after[f] != sum {
			t.Errorf("%s changed", f)
		}
	}
}
