package bench

import (
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/plugins"
	"github.com/quarrylinux/quarry/sdk"
	"github.com/quarrylinux/quarry/testing/conformance"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// pluginHost builds the named test plugins and pins them.
func pluginHost(b *testing.B, names ...string) *plugins.Host {
	b.Helper()
	dir := b.TempDir()
	lock := &plugins.Lock{Version: 1, Plugins: map[string]*plugins.Pinned{}}
	pkgs := map[string]string{}
	for _, n := range names {
		pkgs[n] = "./testing/plugins/" + n
	}
	// Built as make plugins builds what ships: stripped.
	if err := fixtures.BuildPlugins(dir, pkgs, "-trimpath", "-ldflags=-s -w"); err != nil {
		b.Fatal(err)
	}
	for _, n := range names {
		bin := filepath.Join(dir, plugins.BinaryName(n))
		sum, err := plugins.FileSHA256(bin)
		if err != nil {
			b.Fatal(err)
		}
		lock.Plugins[n] = &plugins.Pinned{Binary: filepath.Base(bin), SHA256: sum}
	}
	return &plugins.Host{Dirs: []string{dir}, Lock: lock, Work: b.TempDir(), HostVersion: "bench"}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[int(float64(len(ds)-1)*p)]
}

// BenchmarkPluginLaunch: from nothing to a plugin ready for calls: the
// hash check, the copy, bwrap, exec, the handshake, mutual TLS and
// GetPluginInfo. The baseline is the same binary run by bwrap with no
// handshake (it exits at once, refusing to run by hand).
func BenchmarkPluginLaunch(b *testing.B) {
	h := pluginHost(b, "good")
	ctx := context.Background()
	var launches, bare []time.Duration
	bin := filepath.Join(h.Dirs[0], plugins.BinaryName("good"))
	for i := 0; i < b.N*20; i++ {
		start := time.Now()
		p, err := h.Launch(ctx, "good")
		if err != nil {
			b.Fatal(err)
		}
		launches = append(launches, time.Since(start))
		p.Close()
		start = time.Now()
		exec.Command("bwrap", "--ro-bind", "/usr", "/usr", "--ro-bind", bin, bin, "--symlink", "usr/lib64", "/lib64", "--unshare-all", "--", bin).Run()
		bare = append(bare, time.Since(start))
	}
	p50 := percentile(launches, 0.5)
	b.ReportMetric(float64(p50.Microseconds())/1000, "ms-launch-p50(goal<50)")
	b.ReportMetric(float64(percentile(launches, 0.95).Microseconds())/1000, "ms-launch-p95")
	b.ReportMetric(float64(percentile(bare, 0.5).Microseconds())/1000, "ms-bare-bwrap-exec-p50")
	b.ReportMetric(float64(p50)/float64(percentile(bare, 0.5)), "x-bare-exec")
}

// BenchmarkPluginCall: one small call's round trip (Repos) to a running,
// sandboxed plugin over mutual TLS.
func BenchmarkPluginCall(b *testing.B) {
	h := pluginHost(b, "good")
	ctx := context.Background()
	p, err := h.Launch(ctx, "good")
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	var calls []time.Duration
	for i := 0; i < b.N*2000; i++ {
		start := time.Now()
		if _, err := p.Repos(ctx); err != nil {
			b.Fatal(err)
		}
		calls = append(calls, time.Since(start))
	}
	b.ReportMetric(float64(percentile(calls, 0.5).Nanoseconds())/1e6, "ms-call-p50(goal<0.5)")
	b.ReportMetric(float64(percentile(calls, 0.95).Nanoseconds())/1e6, "ms-call-p95")
}

// BenchmarkPluginStream100MB: 100 MB of sources from a sandboxed plugin,
// reassembled on the host; the baseline is 100 MB through a pipe from
// another process (head -c).
func BenchmarkPluginStream100MB(b *testing.B) {
	h := pluginHost(b, "bulk")
	ctx := context.Background()
	p, err := h.Launch(ctx, "bulk")
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Configure(ctx, sdk.ConfigureRequest{Config: []byte(`{"mb":100}`)}); err != nil {
		b.Fatal(err)
	}
	var took, pipe time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		pkgs, err := p.Packages(ctx)
		if err != nil || pkgs[0].Size() < 100<<20 {
			b.Fatal(err)
		}
		took += time.Since(start)
		start = time.Now()
		cmd := exec.Command("head", "-c", "104857600", "/dev/zero")
		out, _ := cmd.StdoutPipe()
		cmd.Start()
		n, _ := io.Copy(io.Discard, out)
		cmd.Wait()
		pipe += time.Since(start)
		if n != 100<<20 {
			b.Fatalf("pipe moved %d bytes", n)
		}
	}
	mbs := 100 * float64(b.N) / took.Seconds()
	b.ReportMetric(mbs, "MB/s-stream")
	b.ReportMetric(100*float64(b.N)/pipe.Seconds(), "MB/s-pipe-baseline")
	b.ReportMetric(mbs/(100*float64(b.N)/pipe.Seconds()), "x-pipe")
}

// BenchmarkConformance: the conformance suite on built plugins, --quick on
// the starter and the full suite on the kernel SIG, as quarry plugin check
// runs them.
func BenchmarkConformance(b *testing.B) {
	dir := b.TempDir()
	if err := fixtures.BuildPlugins(dir, map[string]string{"hello": "./examples/hello-sig", "kernel": "./sigs/kernel"}, "-trimpath", "-ldflags=-s -w"); err != nil {
		b.Fatal(err)
	}
	run := func(name string, level conformance.Level, cfg string) time.Duration {
		target, err := conformance.Binary(filepath.Join(dir, plugins.BinaryName(name)), []byte(cfg))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for _, r := range conformance.Check(context.Background(), target, level) {
			if r.Status == conformance.Fail {
				b.Fatalf("%s: %s: %s", name, r.Check, r.Message)
			}
		}
		return time.Since(start)
	}
	var quick, full time.Duration
	for i := 0; i < b.N; i++ {
		quick += run("hello", conformance.Quick, `{"greeting":"Hi"}`)
		full += run("kernel", conformance.Full, `{"flavours":[{"name":"mainline"},{"name":"lts"}]}`)
	}
	b.ReportMetric(quick.Seconds()/float64(b.N), "s-quick-hello(goal<2)")
	b.ReportMetric(full.Seconds()/float64(b.N), "s-full-kernel")
}
