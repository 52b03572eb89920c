package bench

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cavaliergopher/rpm"

	"github.com/quarrylinux/quarry/core/build"
	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/readback"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/plugins/policy"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// BenchmarkGateBuilt: the gate on built RPMs, per SIG RPM, against a core
// of 10,000 RPMs: reading each RPM back from the store (the blob checked
// against its digest, the header parsed), the undeclared-rpm check and
// every rule of policy.Gate.Built. The baseline, in the same process, is
// the plain header read: the same blobs from the store, parsed with
// cavaliergopher/rpm. Cached is a re-run, with the facts cached by
// digest (which pays off on real RPMs: the store hashes every byte of a
// blob it reads, the cache reads a few hundred bytes of JSON); rules-alone
// is Gate.Built on headers already read.
func BenchmarkGateBuilt(b *testing.B) {
	const coreN, sigN = 10000, 2000
	st, err := store.Open(filepath.Join(b.TempDir(), "store"))
	if err != nil {
		b.Fatal(err)
	}
	put := func(prefix string, n int) []build.Output {
		outs := make([]build.Output, n)
		for i := range outs {
			name := fmt.Sprintf("%s%05d", prefix, i)
			d, err := st.Put(fixtures.SyntheticRPM(name, "1.0", "1", 1700000000))
			if err != nil {
				b.Fatal(err)
			}
			outs[i] = build.Output{File: name + "-1.0-1.x86_64.rpm", SHA256: d, Name: name, Arch: "x86_64", EVR: "1.0-1"}
		}
		return outs
	}
	coreOuts, sigOuts := put("core", coreN), put("sig", sigN)
	var core []*readback.RPM
	for _, o := range coreOuts {
		r, err := (&readback.Reader{Store: st}).Output(o)
		if err != nil {
			b.Fatal(err)
		}
		core = append(core, r)
	}
	start := time.Now()
	idx := readback.NewIndex(core)
	indexTime := time.Since(start)
	g := &policy.Gate{SIG: "bench", Distro: "pebble"}
	ctx := policy.Built{Core: idx, Release: "pebble-release-bench"}

	headers := func() {
		for _, o := range sigOuts {
			data, err := st.Get(o.SHA256)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := rpm.Read(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	}
	gate := func(rd *readback.Reader) {
		var rpms []*readback.RPM
		for _, o := range sigOuts {
			r, err := rd.Output(o)
			if err != nil {
				b.Fatal(err)
			}
			r.Package = o.Name
			decl := []plan.Binary{{Name: o.Name, Arch: o.Arch, EVR: o.EVR}}
			if ps := readback.Declared(o.Name+"/x86_64", o.Name, decl, []*readback.RPM{r}); len(ps) > 0 {
				b.Fatal(ps)
			}
			rpms = append(rpms, r)
		}
		if vs := g.Built(rpms, ctx); len(vs) > 0 {
			b.Fatal(vs)
		}
	}
	var pre []*readback.RPM
	for _, o := range sigOuts {
		r, _ := (&readback.Reader{Store: st}).Output(o)
		pre = append(pre, r)
	}
	var base, cold, warm, rules time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		headers()
		t1 := time.Now()
		gate(&readback.Reader{Store: st})
		t2 := time.Now()
		cached := &readback.Reader{Store: st, Cache: b.TempDir()}
		gate(cached) // fills the cache
		t3 := time.Now()
		gate(cached)
		t4 := time.Now()
		g.Built(pre, ctx)
		base, cold, warm, rules = base+t1.Sub(t0), cold+t2.Sub(t1), warm+t4.Sub(t3), rules+time.Since(t4)
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N*sigN) }
	b.ReportMetric(per(base), "µs/rpm-header-read")
	b.ReportMetric(per(cold), "µs/rpm-gate")
	b.ReportMetric(per(warm), "µs/rpm-gate-cached")
	b.ReportMetric(per(rules), "µs/rpm-rules-alone")
	b.ReportMetric(float64(cold)/float64(base), "x-header-read")
	b.ReportMetric(float64(warm)/float64(base), "x-header-read-cached")
	b.ReportMetric(float64(indexTime.Microseconds())/coreN, "µs/core-rpm-index")
}
