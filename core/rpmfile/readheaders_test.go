package rpmfile_test

import (
	"math/rand"
	"reflect"
	"testing"

	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// TestReadHeadersMatchesRead: for mutated real and synthetic RPMs (digests
// recomputed), ReadHeaders accepts exactly what Read accepts and its
// getters say what the rpm library's do, tag by tag.
func TestReadHeadersMatchesRead(t *testing.T) {
	seeds, err := fixtures.SeedRPMs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	all := [][]byte{fixtures.SyntheticRPM("synth", "1.0", "1", 1700000000)}
	for _, s := range seeds {
		all = append(all, s.Data)
		for _, region := range []bool{true, false} {
			if old, err := fixtures.OldLayout(s.Data, region); err == nil {
				all = append(all, old)
			}
		}
	}
	rng := rand.New(rand.NewSource(1))
	ok, bad := 0, 0
	for it := 0; it < 20000; it++ {
		d := append([]byte(nil), all[it%len(all)]...)
		for k := rng.Intn(4); k >= 0; k-- {
			// mutate inside the first 2 KiB (the headers)
			i := 96 + rng.Intn(min(2048, len(d)-96))
			d[i] = byte(rng.Intn(256))
		}
		d = fixtures.Redigest(d)
		file, err1 := rpmfile.Read("x", d)
		h, err2 := rpmfile.ReadHeaders("x", d)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("Read: %v, ReadHeaders: %v", err1, err2)
		}
		if err1 != nil {
			bad++
			continue
		}
		ok++
		s1, e1 := file.HeaderRange()
		s2, e2 := h.HeaderRange()
		if s1 != s2 || e1 != e2 || file.IsSource() != h.IsSource() || (file.Header.GetTag(rpmfile.RegionImmutable) == nil) != h.Legacy() {
			t.Fatal("range, source or legacy differ")
		}
		p1, err1 := rpmfile.FilePaths(&file.Header)
		p2, err2 := h.Header.FilePaths()
		if !reflect.DeepEqual(p1, p2) || (err1 == nil) != (err2 == nil) {
			t.Fatalf("file paths differ: %v %v / %v %v", p1, err1, p2, err2)
		}
		for tag := range file.Header.Tags {
			lt := file.Header.GetTag(tag)
			if !reflect.DeepEqual(lt.StringSlice(), h.Header.Strings(tag)) || !reflect.DeepEqual(lt.Int64Slice(), h.Header.Ints(tag)) || lt.String() != h.Header.String(tag) {
				t.Fatalf("tag %d differs", tag)
			}
		}
		for tag := range file.Signature.Tags {
			lt := file.Signature.GetTag(tag)
			if !reflect.DeepEqual(lt.StringSlice(), h.Signature.Strings(tag)) || !reflect.DeepEqual(lt.Int64Slice(), h.Signature.Ints(tag)) {
				t.Fatalf("sig tag %d differs", tag)
			}
		}
	}
	t.Logf("%d accepted, %d rejected, all agreeing", ok, bad)
}
