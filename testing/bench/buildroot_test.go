package bench

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// depsSpec is a BuildRequires of the size the example's are: a header and
// a small library's worth of files.
const depsSpec = `Name: benchdeps
Version: 1
Release: 1
Summary: what a job installs before it builds
License: MIT
BuildArch: noarch
%description
bench
%install
mkdir -p %{buildroot}/usr/include/bench %{buildroot}/usr/share/bench
for i in $(seq 1 40); do echo "int bench_$i(void);" > %{buildroot}/usr/include/bench/h$i.h; head -c 4096 /dev/zero > %{buildroot}/usr/share/bench/d$i; done
%files
/usr/include/bench
/usr/share/bench
`

// BenchmarkBuildrootSetup is a job's set-up in its buildroot: a fresh
// root (idmapped image under an overlay layer in the job's tmpfs), its
// BuildRequires (two RPMs) installed by the root's rpm as the root's
// root, then torn down; natively (x86_64) and emulated (aarch64, rpm
// under qemu-user). Goal: p50 under 200 ms native. The baseline, in the
// same process, is the same box without a root: the host's /usr.
func BenchmarkBuildrootSetup(b *testing.B) {
	rpms, err := fixtures.BuildSpec(b.TempDir(), "benchdeps", depsSpec)
	if err != nil {
		b.Fatal(err)
	}
	second, err := fixtures.BuildSpec(b.TempDir(), "benchdeps2", replaceName(depsSpec, "benchdeps2"))
	if err != nil {
		b.Fatal(err)
	}
	rpms = append(rpms, second...)
	ctx := context.Background()
	once := func(root string) time.Duration {
		start := time.Now()
		box, err := sandbox.Open(sandbox.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		defer box.Close()
		if root != "" {
			if err := box.UseRoot(root); err != nil {
				b.Fatal(err)
			}
			box.Caps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_SETFCAP"}
		}
		os.Mkdir(filepath.Join(box.Dir(), "deps"), 0o755)
		for _, r := range rpms {
			data, _ := os.ReadFile(r)
			os.WriteFile(filepath.Join(box.Dir(), "deps", filepath.Base(r)), data, 0o644)
		}
		script := "rpm -i --nodeps /build/deps/*.rpm"
		if root == "" {
			// The host's rpm, into a sysroot of the job's folder (the cross mode's way).
			box.Caps = []string{"CAP_SYS_CHROOT"}
			script = "rpm --root /build/sysroot --dbpath /var/lib/rpm -i --nodeps --noscripts /build/deps/*.rpm"
		}
		if err := box.Run(ctx, io.Discard, "sh", "-c", script); err != nil {
			b.Fatal(err)
		}
		box.Close()
		return time.Since(start)
	}
	const n = 30
	measure := func(root string) (p50, p95 time.Duration) {
		var ds []time.Duration
		for range n {
			ds = append(ds, once(root))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[n/2], ds[n*95/100]
	}
	native := fixtures.Buildroot(b, "x86_64").Root
	emulated := fixtures.Buildroot(b, "aarch64").Root
	b.ResetTimer()
	var n50, n95, e50, e95, h50 time.Duration
	for range b.N {
		n50, n95 = measure(native)
		e50, e95 = measure(emulated)
		h50, _ = measure("")
	}
	b.ReportMetric(ms(n50), "ms-native-p50(goal<200)")
	b.ReportMetric(ms(n95), "ms-native-p95")
	b.ReportMetric(ms(e50), "ms-emulated-p50")
	b.ReportMetric(ms(e95), "ms-emulated-p95")
	b.ReportMetric(ms(h50), "ms-host-sysroot-p50")
	b.ReportMetric(float64(n50)/float64(h50), "x-host-sysroot")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func replaceName(spec, name string) string {
	return "Name: " + name + spec[len("Name: benchdeps"):]
}

// BenchmarkEmulatedBuild is one package of the example (wordfreq: a C
// program, configure-less, compiled and stripped) built natively in the
// x86_64 root and emulated in the aarch64 root: the slowdown factor of
// qemu-user, job against job.
func BenchmarkEmulatedBuild(b *testing.B) {
	p, envs, _, st, state, roots := exampleBuildIn(b, true)
	ctx := context.Background()
	run := func(id string) time.Duration {
		j := p.Job(id)
		if j == nil {
			b.Fatalf("no job %s", id)
		}
		e := envs[j.Arch]
		exec := &build.Local{Store: st, Work: filepath.Join(state, "work"), Roots: roots}
		job := &build.Job{ID: j.ID, Package: j.Package, Arch: j.Arch, SRPM: build.Input{Name: j.SRPMFile, SHA256: j.SRPM}, Env: e}
		start := time.Now()
		if _, err := exec.Run(ctx, job, nil); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	b.ResetTimer()
	var native, emulated time.Duration
	for range b.N {
		native = run("wordfreq/x86_64")
		emulated = run("wordfreq/aarch64")
	}
	b.ReportMetric(native.Seconds(), "s-native")
	b.ReportMetric(emulated.Seconds(), "s-emulated")
	b.ReportMetric(emulated.Seconds()/native.Seconds(), "x-emulated-slower")
}
