package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/compose"
	"github.com/quarrylinux/quarry/core/lock"
	"github.com/quarrylinux/quarry/core/provenance"
	"github.com/quarrylinux/quarry/core/publish"
	"github.com/quarrylinux/quarry/core/sign"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

const repoSize = 10000

var (
	quarryOnce sync.Once
	quarryBin  string
	quarryErr  error
)

// quarry builds the CLI once: the repo benchmarks run it as a process, as
// they run createrepo_c, so both pay for start-up and report their own
// peak memory.
func quarry(b *testing.B) string {
	b.Helper()
	quarryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "quarry-bench-bin-")
		if err != nil {
			quarryErr = err
			return
		}
		quarryBin = filepath.Join(dir, "quarry")
		// go test puts its own toolchain's bin first in PATH.
		out, err := exec.Command("go", "build", "-o", quarryBin, "../../cmd/quarry").CombinedOutput()
		if err != nil {
			quarryErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if quarryErr != nil {
		b.Fatal(quarryErr)
	}
	return quarryBin
}

// synthRepo writes n synthetic RPMs into a fresh folder.
func synthRepo(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("synth%05d", i)
		if err := os.WriteFile(filepath.Join(dir, name+"-1.0-1.x86_64.rpm"), fixtures.SyntheticRPM(name, "1.0", "1", 1700000000), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// timed runs a command and returns its wall time and peak RSS in MiB.
func timed(b *testing.B, name string, args ...string) (time.Duration, float64) {
	b.Helper()
	cmd := exec.Command(name, args...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return d, float64(ru.Maxrss) / 1024
}

// BenchmarkRepoIndex10k and 50k: a full index of n small RPMs next to
// createrepo_c --workers 2 (without its sqlite databases, which Quarry does
// not write either) on the same folder, then an --update on both after one
// package changed (new bytes, a later mtime). Goals (issue 15): at most
// 0.5x createrepo_c's time, and under 0.3 s for the update at 50,000.
func BenchmarkRepoIndex10k(b *testing.B) { benchRepoIndex(b, repoSize) }
func BenchmarkRepoIndex50k(b *testing.B) { benchRepoIndex(b, 5*repoSize) }

func benchRepoIndex(b *testing.B, n int) {
	q := quarry(b)
	ours, theirs := synthRepo(b, n), b.TempDir()
	entries, _ := os.ReadDir(ours)
	for _, e := range entries {
		os.Link(filepath.Join(ours, e.Name()), filepath.Join(theirs, e.Name()))
	}
	cache := b.TempDir()
	var full, crFull, upd, crUpd time.Duration
	var rss, crRSS, updRSS, crUpdRSS float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		os.RemoveAll(filepath.Join(ours, "repodata"))
		os.RemoveAll(filepath.Join(theirs, "repodata"))
		c := filepath.Join(cache, fmt.Sprint(i))
		d, m := timed(b, q, "repo", "index", "--update", "--cache-dir", c, ours)
		full += d
		rss = max(rss, m)
		d, m = timed(b, "createrepo_c", "--workers", "2", "--no-database", "-q", theirs)
		crFull += d
		crRSS = max(crRSS, m)

		// One package rebuilt: new bytes under the same name, a later
		// mtime. Each folder gets its own file (they were hard links).
		name := fmt.Sprintf("synth%05d", (i*7919)%n)
		data := fixtures.SyntheticRPM(name, "1.0", "1", uint32(1700000001+i))
		later := time.Unix(1800000000+int64(i), 0)
		for _, dir := range []string{ours, theirs} {
			path := filepath.Join(dir, name+"-1.0-1.x86_64.rpm")
			os.Remove(path)
			os.WriteFile(path, data, 0o644)
			os.Chtimes(path, later, later)
		}
		d, m = timed(b, q, "repo", "index", "--update", "--cache-dir", c, ours)
		upd += d
		updRSS = max(updRSS, m)
		d, m = timed(b, "createrepo_c", "--update", "--workers", "2", "--no-database", "-q", theirs)
		crUpd += d
		crUpdRSS = max(crUpdRSS, m)
	}
	b.StopTimer()
	runs := float64(b.N)
	b.ReportMetric(full.Seconds()/runs, "s-full")
	b.ReportMetric(crFull.Seconds()/runs, "s-createrepo_c-full")
	b.ReportMetric(full.Seconds()/crFull.Seconds(), "x-createrepo_c(goal<=0.5)")
	b.ReportMetric(rss, "MiB-peak")
	b.ReportMetric(crRSS, "MiB-peak-createrepo_c")
	b.ReportMetric(upd.Seconds()/runs, "s-update-one(goal<0.3@50k)")
	b.ReportMetric(crUpd.Seconds()/runs, "s-createrepo_c-update")
	b.ReportMetric(updRSS, "MiB-peak-update")
	b.ReportMetric(crUpdRSS, "MiB-peak-createrepo_c-update")
}

var (
	benchKeyOnce sync.Once
	benchKey     *sign.Key
)

func rsaKey(b *testing.B) *sign.Key {
	benchKeyOnce.Do(func() {
		var err error
		if benchKey, err = sign.Generate("Bench <bench@quarry.example>", 4096, time.Unix(1690000000, 0)); err != nil {
			b.Fatal(err)
		}
	})
	return benchKey
}

// BenchmarkSign: RSA-4096 header signatures per second, each verified,
// on every core, as the composer signs.
func BenchmarkSign(b *testing.B) {
	k := rsaKey(b)
	const n = 400
	rpms := make([][]byte, n)
	for i := range rpms {
		rpms[i] = fixtures.SyntheticRPM(fmt.Sprintf("sig%04d", i), "1.0", "1", 1700000000)
	}
	b.ResetTimer()
	var total time.Duration
	for it := 0; it < b.N; it++ {
		start := time.Now()
		var wg sync.WaitGroup
		work := make(chan int)
		for w := 0; w < runtime.GOMAXPROCS(0); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					out, err := k.RPM("bench.rpm", rpms[i])
					if err == nil {
						err = sign.VerifyRPM(k.Public(), "bench.rpm", out)
					}
					if err != nil {
						b.Error(err)
					}
				}
			}()
		}
		for i := range rpms {
			work <- i
		}
		close(work)
		wg.Wait()
		total += time.Since(start)
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "signatures/s(goal>=100)")
}

// BenchmarkPublishOneChange: the time from a finished build to packages dnf
// can install, for one changed package in a 2,000-package, two-arch
// distribution: sign it, re-index the repositories that hold it, link the
// rest, sign repomd.xml and its provenance, write the manifest and switch
// out/current.
func BenchmarkPublishOneChange(b *testing.B) {
	k := rsaKey(b)
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	var arts []compose.Artifact
	recs := map[string]*build.Record{}
	record := func(a compose.Artifact, end int64) {
		recs[a.Job] = &build.Record{Key: a.SHA256, Job: build.Job{ID: a.Job, Package: a.Name, Arch: a.Arch}, Command: []string{"rpmbuild"},
			Start: time.Unix(end-10, 0), End: time.Unix(end, 0), Outputs: []build.Output{{File: a.File, SHA256: a.SHA256, Name: a.Name, Arch: a.Arch}}}
	}
	for i := 0; i < 2000; i++ {
		name := fmt.Sprintf("pkg%04d", i)
		d, err := st.Put(fixtures.SyntheticRPM(name, "1.0", "1", 1700000000))
		if err != nil {
			b.Fatal(err)
		}
		repo := "BaseOS"
		if i%2 == 1 {
			repo = "AppStream"
		}
		arts = append(arts, compose.Artifact{File: name + "-1.0-1.x86_64.rpm", SHA256: d, Name: name, Arch: "x86_64", Repo: repo, Job: name + "/x86_64"})
		record(arts[i], 1700000000)
	}
	pw := &provenance.Writer{Key: k, Store: st, Distribution: "bench", Version: "1", Builder: provenance.Builder{ID: "bench"}}
	c := &compose.Composer{Store: st, Cache: b.TempDir(), Key: k, KeyName: "RPM-GPG-KEY-bench", Arches: []string{"x86_64", "aarch64"}}
	pub := &publish.Publisher{Out: b.TempDir(), Keep: 3}
	once := func() time.Duration {
		start := time.Now()
		draft, err := pub.Begin()
		if err != nil {
			b.Fatal(err)
		}
		res, err := c.Compose(context.Background(), draft.Dir(), arts)
		if err != nil {
			b.Fatal(err)
		}
		if err := pw.Write(context.Background(), draft.Dir(), res.Artifacts, recs, lock.New()); err != nil {
			b.Fatal(err)
		}
		m := publish.Manifest{Distribution: "bench", Key: k.Fingerprint(), Artifacts: res.Artifacts, Repositories: res.Repos}
		if err := m.Write(draft.Dir(), k, time.Unix(1700000000, 0)); err != nil {
			b.Fatal(err)
		}
		if _, err := draft.Commit(time.Now()); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	cold := once()
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		name := "pkg0000"
		d, err := st.Put(fixtures.SyntheticRPM(name, "1.0", fmt.Sprint(i+2), 1700000000+uint32(i)))
		if err != nil {
			b.Fatal(err)
		}
		arts[0] = compose.Artifact{File: fmt.Sprintf("%s-1.0-%d.x86_64.rpm", name, i+2), SHA256: d, Name: name, Arch: "x86_64", Repo: "BaseOS", Job: name + "/x86_64"}
		record(arts[0], 1700000000+int64(i)+1)
		total += once()
	}
	b.ReportMetric(cold.Seconds(), "s-first-compose-2000")
	b.ReportMetric(total.Seconds()/float64(b.N), "s-one-change-to-installable(goal<2)")
}
