package bench

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quarrylinux/quarry/core/blobs"
	"github.com/quarrylinux/quarry/core/blobs/s3test"
	"github.com/quarrylinux/quarry/core/engine"
	"github.com/quarrylinux/quarry/core/store"
)

// BenchmarkEngineBlobs moves a 200 MB RPM-sized blob through the
// JetStream object store of the embedded engine (file storage, every
// write fsynced), as a worker's output goes to the coordinator: Put, then
// Fetch (read back and hashed) into a local store; against the baseline
// of the same bytes put into and read from the local store (a file
// written, fsynced and renamed), in the same process. The same for an
// S3-compatible store through minio-go (s3test: gofakes3 over a folder,
// which does not fsync, so its figures are a best case for S3).
func BenchmarkEngineBlobs(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	srv, err := engine.Embedded(filepath.Join(dir, "engine"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	js, err := srv.JetStream()
	if err != nil {
		b.Fatal(err)
	}
	eng, err := engine.Setup(ctx, js, engine.Options{Arches: []string{"x86_64"}})
	if err != nil {
		b.Fatal(err)
	}
	objs := &blobs.Objects{OS: eng.Objects}
	s3 := s3test.Start(b)
	data := make([]byte, 200<<20)
	rand.Read(data)
	var put, fetch, s3put, s3fetch, local time.Duration
	for i := 0; i < b.N; i++ {
		data[0] = byte(i) // a new blob each round
		dst, err := store.Open(filepath.Join(dir, "to", string(rune('a'+i))))
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		d, err := objs.Put(ctx, data)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := blobs.Fetch(ctx, objs, dst, d); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		base, err := store.Open(filepath.Join(dir, "base", string(rune('a'+i))))
		if err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		if _, err := base.Put(data); err != nil {
			b.Fatal(err)
		}
		if _, err := base.Get(d); err != nil {
			b.Fatal(err)
		}
		local += time.Since(t3)
		put += t1.Sub(t0)
		fetch += t2.Sub(t1)
		os.RemoveAll(filepath.Join(dir, "to"))
		dst, _ = store.Open(filepath.Join(dir, "to", string(rune('a'+i))))
		t4 := time.Now()
		if _, err := s3.Put(ctx, data); err != nil {
			b.Fatal(err)
		}
		t5 := time.Now()
		if err := blobs.Fetch(ctx, s3, dst, d); err != nil {
			b.Fatal(err)
		}
		s3put += t5.Sub(t4)
		s3fetch += time.Since(t5)
		os.RemoveAll(filepath.Join(dir, "to"))
		os.RemoveAll(filepath.Join(dir, "base"))
	}
	n := float64(b.N)
	mb := float64(len(data)) / (1 << 20)
	b.ReportMetric(mb/(put.Seconds()/n), "MB/s-put")
	b.ReportMetric(mb/(fetch.Seconds()/n), "MB/s-fetch")
	b.ReportMetric((put+fetch).Seconds()/local.Seconds(), "objectstore/localstore")
	b.ReportMetric(mb/(s3put.Seconds()/n), "MB/s-s3-put")
	b.ReportMetric(mb/(s3fetch.Seconds()/n), "MB/s-s3-fetch")
	b.ReportMetric((s3put+s3fetch).Seconds()/local.Seconds(), "s3/localstore")
}
