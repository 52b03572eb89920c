package bench

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/sandbox"
)

// BenchmarkSandbox is one sandboxed command's overhead: take an id range,
// mount the job's tmpfs, start `true` as its own uid under bwrap with its
// limits, read a file back without links, unmount. The baseline, in the
// same process, is how jobs ran before that confinement: bwrap as host
// root over a plain folder. Goal for a whole job's overhead: p50 < 100 ms
// (BenchmarkExampleBuild measures it on real builds).
func BenchmarkSandbox(b *testing.B) {
	ctx := context.Background()
	confined := func() time.Duration {
		start := time.Now()
		box, err := sandbox.Open(sandbox.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(box.Dir(), "in"), []byte("input"), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := box.Run(ctx, io.Discard, "sh", "-c", "cp /build/in /build/out"); err != nil {
			b.Fatal(err)
		}
		if _, err := box.ReadFile("out", 1<<10); err != nil {
			b.Fatal(err)
		}
		if err := box.Close(); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	work := b.TempDir()
	plain := func() time.Duration {
		start := time.Now()
		dir, _ := os.MkdirTemp(work, "job-")
		os.WriteFile(filepath.Join(dir, "in"), []byte("input"), 0o644)
		err := exec.Command("bwrap", "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc", "--symlink", "usr/bin", "/bin",
			"--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
			"--bind", dir, "/build", "--unshare-all", "--die-with-parent", "--", "sh", "-c", "cp /build/in /build/out").Run()
		if err != nil {
			b.Fatal(err)
		}
		os.ReadFile(filepath.Join(dir, "out"))
		os.RemoveAll(dir)
		return time.Since(start)
	}
	const n = 40
	var got, base []time.Duration
	b.ResetTimer()
	for range b.N {
		for range n {
			got = append(got, confined())
			base = append(base, plain())
		}
	}
	p50 := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	p95 := func(d []time.Duration) time.Duration { return d[len(d)*95/100] }
	b.ReportMetric(float64(p50(got).Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(p95(got).Microseconds())/1000, "ms-p95")
	b.ReportMetric(float64(p50(base).Microseconds())/1000, "ms-p50-plain-bwrap")
	b.ReportMetric(float64(p50(got))/float64(p50(base)), "x-plain-bwrap")
}
