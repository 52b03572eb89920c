package blobs

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"

	"github.com/quarrylinux/quarry/core/store"
)

// S3 is a Store over a bucket of an S3-compatible store (minio-go), an
// object per blob named by its sha256: the alternative to the engine's
// object store that BenchmarkEngineBlobs measures it against. An S3
// store takes a blob of any size in one multipart upload, with no parts
// of Quarry's own.
type S3 struct {
	Client *minio.Client
	Bucket string
	// MaxSize is the most a blob read back may be (0: MaxSize).
	MaxSize int64
}

func (s *S3) notFound(err error) bool {
	return minio.ToErrorResponse(err).Code == minio.NoSuchKey
}

// Has implements Store.
func (s *S3) Has(ctx context.Context, digest string) (bool, error) {
	if !digestPattern.MatchString(digest) {
		return false, nil
	}
	_, err := s.Client.StatObject(ctx, s.Bucket, digest, minio.StatObjectOptions{})
	if s.notFound(err) {
		return false, nil
	}
	return err == nil, err
}

// Put implements Store; an object already there is left as it is.
func (s *S3) Put(ctx context.Context, data []byte) (string, error) {
	d := store.Digest(data)
	if ok, err := s.Has(ctx, d); err != nil || ok {
		return d, err
	}
	ctx, cancel := transferContext(ctx, int64(len(data)))
	defer cancel()
	// Unsigned payload, as minio-go sends over TLS anyway: the content is
	// checked by its name when it is fetched. (Over plain HTTP it would
	// sign each chunk, which gofakes3 stores as part of the object.)
	if _, err := s.Client.PutObject(ctx, s.Bucket, d, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream", DisableContentSha256: true}); err != nil {
		return d, fmt.Errorf("object %s: %w", d, err)
	}
	return d, nil
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, digest string) ([]byte, error) {
	if !digestPattern.MatchString(digest) {
		return nil, fmt.Errorf("blob %q: %w", digest, ErrNotFound)
	}
	info, err := s.Client.StatObject(ctx, s.Bucket, digest, minio.StatObjectOptions{})
	if s.notFound(err) {
		return nil, fmt.Errorf("blob %s: %w", digest, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	limit := cmp.Or(s.MaxSize, MaxSize)
	if info.Size > limit {
		return nil, fmt.Errorf("blob %s: %d bytes, more than a blob may be (%d)", digest, info.Size, limit)
	}
	ctx, cancel := transferContext(ctx, info.Size)
	defer cancel()
	obj, err := s.Client.GetObject(ctx, s.Bucket, digest, minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	// Bounded again: the object may have grown since its Stat.
	data, err := io.ReadAll(io.LimitReader(obj, limit+1))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", digest, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("blob %s: more than a blob may be (%d bytes)", digest, limit)
	}
	return data, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, digest string) error {
	if !digestPattern.MatchString(digest) {
		return nil
	}
	return s.Client.RemoveObject(ctx, s.Bucket, digest, minio.RemoveObjectOptions{})
}
