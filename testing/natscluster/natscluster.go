// Package natscluster runs a real 3-node NATS JetStream cluster on
// loopback for tests and benchmarks: nats-server built from the module
// Quarry embeds it from, one process per node, file storage with every
// write fsynced (sync_interval: always), as production runs it.
package natscluster

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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

// Cluster is a 3-node JetStream cluster on 127.0.0.1.
type Cluster struct {
	urls  []string
	nodes []*exec.Cmd
}

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start starts three nats-server nodes (file storage, fsync of
// every write) and returns once JetStream has elected its metadata
// leader.
func Start(tb testing.TB) *Cluster {
	tb.Helper()
	bin, err := natsServer()
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	var client, route [3]int
	for i := range 3 {
		client[i], route[i] = freePort(tb), freePort(tb)
	}
	routes := make([]string, 3)
	for i := range 3 {
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", route[i])
	}
	c := &Cluster{}
	leader := make(chan string, 3)
	for i := range 3 {
		conf := filepath.Join(dir, fmt.Sprintf("n%d.conf", i+1))
		text := fmt.Sprintf(`server_name: n%d
listen: 127.0.0.1:%d
jetstream { store_dir: %q, sync_interval: always }
cluster { name: quarry, listen: 127.0.0.1:%d, routes: [%s] }
`, i+1, client[i], filepath.Join(dir, fmt.Sprintf("n%d", i+1)), route[i], strings.Join(routes, ", "))
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
		cmd := exec.Command(bin, "-c", conf)
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
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
	tb.Cleanup(func() {
		for _, n := range c.nodes {
			n.Process.Kill()
			n.Wait()
		}
	})
	select {
	case <-leader:
	case <-time.After(2 * time.Minute):
		tb.Fatal("the cluster elected no JetStream leader")
	}
	c.ready(tb)
	return c
}

// ready returns once the cluster places a stream on its three nodes: a
// metadata leader is elected before its peers are all current, and a
// replicated stream asked for then may time out.
func (c *Cluster) ready(tb testing.TB) {
	tb.Helper()
	js, done := c.jetStream(tb)
	defer done()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "NATSCLUSTER_READY", Replicas: 3, Storage: jetstream.MemoryStorage})
		if err == nil {
			err = js.DeleteStream(ctx, "NATSCLUSTER_READY")
		}
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the cluster places no stream on its 3 nodes: %v", err)
		}
	}
}

// jetStream is JetStream over a connection of its own, closed by done.
func (c *Cluster) jetStream(tb testing.TB) (js jetstream.JetStream, done func()) {
	tb.Helper()
	nc, err := nats.Connect(c.URL())
	if err != nil {
		tb.Fatal(err)
	}
	js, err = jetstream.New(nc)
	if err != nil {
		nc.Close()
		tb.Fatal(err)
	}
	return js, nc.Close
}

// URL is the cluster's client URLs, comma-separated.
func (c *Cluster) URL() string { return strings.Join(c.urls, ",") }

// StreamLeader is the name (n1, n2, n3) of the node leading stream.
func (c *Cluster) StreamLeader(tb testing.TB, stream string) string {
	tb.Helper()
	js, done := c.jetStream(tb)
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
		tb.Fatalf("stream %s has no leader: %v", stream, err)
	}
	return info.Cluster.Leader
}

// Kill kills node name (-9).
func (c *Cluster) Kill(tb testing.TB, name string) {
	tb.Helper()
	i, err := strconv.Atoi(strings.TrimPrefix(name, "n"))
	if err != nil || i < 1 || i > len(c.nodes) {
		tb.Fatalf("no node %q", name)
	}
	c.nodes[i-1].Process.Kill()
	tb.Logf("killed node %s, the leader", name)
}
