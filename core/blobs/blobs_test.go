package blobs_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/quarrylinux/quarry/core/blobs"
	"github.com/quarrylinux/quarry/core/blobs/s3test"
	"github.com/quarrylinux/quarry/core/engine"
	"github.com/quarrylinux/quarry/core/engine/enginetest"
	"github.com/quarrylinux/quarry/core/store"
)

// Blobs go up and down by digest; one whose content is not its name's
// never reaches the local store.
func TestFetchChecksTheDigest(t *testing.T) {
	ctx := context.Background()
	_, eng := enginetest.Start(t, engine.Options{})
	shared := &blobs.Objects{OS: eng.Objects}
	a, _ := store.Open(t.TempDir())
	b, _ := store.Open(t.TempDir())
	d, _ := a.Put([]byte("an rpm"))
	if err := blobs.Upload(ctx, a, shared, d); err != nil {
		t.Fatal(err)
	}
	if ok, _ := shared.Has(ctx, d); !ok {
		t.Fatal("not uploaded")
	}
	if err := blobs.Fetch(ctx, shared, b, d); err != nil || !b.Has(d) {
		t.Fatalf("fetch: %v", err)
	}

	// Someone with write access to the shared store puts other bytes
	// under a digest's name.
	want := store.Digest([]byte("what was promised"))
	if _, err := eng.Objects.PutBytes(ctx, want, []byte("something else")); err != nil {
		t.Fatal(err)
	}
	err := blobs.Fetch(ctx, shared, b, want)
	var mm *blobs.MismatchError
	if !errors.As(err, &mm) || b.Has(want) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("a tampered blob: %v", err)
	}
	if ok, _ := shared.Has(ctx, want); ok {
		t.Error("the tampered blob is still in the shared store, standing for its name")
	}
	if err := blobs.Fetch(ctx, shared, b, store.Digest([]byte("nothing"))); !errors.Is(err, blobs.ErrNotFound) {
		t.Errorf("a missing blob: %v", err)
	}
	if err := blobs.Fetch(ctx, shared, b, "../../etc/passwd"); err == nil {
		t.Error("a name that is no digest was fetched")
	}
}

// A blob larger than a part goes up in parts and comes down whole; its
// name appears only once every part is there.
func TestLargeBlobsGoInParts(t *testing.T) {
	ctx := context.Background()
	_, eng := enginetest.Start(t, engine.Options{})
	shared := &blobs.Objects{OS: eng.Objects, PartSize: 1 << 20}
	data := make([]byte, 2*shared.PartSize+12345)
	for i := range data {
		data[i] = byte(i * 7)
	}
	d, err := shared.Put(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	info, err := eng.Objects.GetInfo(ctx, d+".2")
	if err != nil || info.Size != 12345 {
		t.Fatalf("the third part: %+v %v", info, err)
	}
	got, err := shared.Get(ctx, d)
	if err != nil || store.Digest(got) != d {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
	// A part changed: Fetch refuses the whole.
	if _, err := eng.Objects.PutBytes(ctx, d+".1", []byte("other")); err != nil {
		t.Fatal(err)
	}
	local, _ := store.Open(t.TempDir())
	var mm *blobs.MismatchError
	if err := blobs.Fetch(ctx, shared, local, d); !errors.As(err, &mm) || local.Has(d) {
		t.Errorf("a tampered part: %v", err)
	}
	if _, err := eng.Objects.GetInfo(ctx, d+".0"); err == nil {
		t.Error("the tampered blob's parts are still there")
	}
	// One larger than a blob may be is not read.
	small := &blobs.Objects{OS: eng.Objects, PartSize: 1 << 20, MaxSize: 1 << 20}
	big, err := shared.Put(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.Get(ctx, big); err == nil || !strings.Contains(err.Error(), "more than a blob may be") {
		t.Errorf("an oversized blob: %v", err)
	}
}

// The S3 store keeps the Store contract: by digest, missing is
// ErrNotFound, and what Fetch reads is hashed again.
func TestS3Store(t *testing.T) {
	ctx := context.Background()
	s3 := s3test.Start(t)
	a, _ := store.Open(t.TempDir())
	b, _ := store.Open(t.TempDir())
	d, _ := a.Put([]byte("an rpm"))
	if err := blobs.Upload(ctx, a, s3, d); err != nil {
		t.Fatal(err)
	}
	if err := blobs.Fetch(ctx, s3, b, d); err != nil || !b.Has(d) {
		t.Fatalf("fetch: %v", err)
	}
	want := store.Digest([]byte("what was promised"))
	if _, err := s3.Client.PutObject(ctx, s3.Bucket, want, strings.NewReader("something else"), -1, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	var mm *blobs.MismatchError
	if err := blobs.Fetch(ctx, s3, b, want); !errors.As(err, &mm) || b.Has(want) {
		t.Errorf("a tampered blob: %v", err)
	}
	if ok, _ := s3.Has(ctx, want); ok {
		t.Error("the tampered blob is still in the shared store")
	}
	if err := blobs.Fetch(ctx, s3, b, store.Digest([]byte("nothing"))); !errors.Is(err, blobs.ErrNotFound) {
		t.Errorf("a missing blob: %v", err)
	}
	// Over 16 MB minio-go uploads in parts.
	big := make([]byte, 17<<20)
	rand.Read(big)
	bd, _ := a.Put(big)
	if err := blobs.Upload(ctx, a, s3, bd); err != nil {
		t.Fatal(err)
	}
	if err := blobs.Fetch(ctx, s3, b, bd); err != nil {
		t.Fatalf("a blob uploaded in parts: %v", err)
	}
	small := &blobs.S3{Client: s3.Client, Bucket: s3.Bucket, MaxSize: 3}
	if _, err := small.Get(ctx, d); err == nil || !strings.Contains(err.Error(), "more than a blob may be") {
		t.Errorf("a blob over the limit: %v", err)
	}
}
