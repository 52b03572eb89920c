package blobs

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/core/store"
)

// Objects is a Store over a JetStream object store, an object per blob
// named by its sha256. A blob larger than PartSize is kept as parts
// (<digest>.<n>) and then the object of its name, which says how many
// parts it has: written last, its presence means the blob is whole.
type Objects struct {
	OS jetstream.ObjectStore
	// PartSize is the most of a blob one object holds (0: PartSize).
	PartSize int
	// MaxSize is the most a blob read back may be (0: MaxSize): what a
	// worker stored is read into memory before it is hashed.
	MaxSize int64
}

// MaxSize is the most a blob may be by default: a job's whole disk
// (build.limits.disk's default) holds no larger RPM.
const MaxSize = 8 << 30

// maxParts bounds a blob's parts.
const maxParts = MaxSize / (1 << 20)

// PartSize is the most of a blob one object holds by default. The object store
// publishes a whole object's chunks before it waits for their acks, and
// a stream queues at most 128 MB of them by default (nats-server's
// StreamMaxBufferedSize): a 200 MB RPM put whole is refused with 429,
// too many requests. Parts bound what is in flight.
const PartSize = 32 << 20

// partsKey is the metadata of a blob's object that names its parts.
const partsKey = "quarry-parts"

// Has implements Store.
func (o *Objects) Has(ctx context.Context, digest string) (bool, error) {
	if !digestPattern.MatchString(digest) {
		return false, nil
	}
	_, err := o.OS.GetInfo(ctx, digest)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// Put implements Store. An object already there is left as it is: an
// object store's Put replaces, and a blob's name is its content.
func (o *Objects) Put(ctx context.Context, data []byte) (string, error) {
	d := store.Digest(data)
	if ok, err := o.Has(ctx, d); err != nil || ok {
		return d, err
	}
	ctx, cancel := transferContext(ctx, int64(len(data)))
	defer cancel()
	size := cmp.Or(o.PartSize, PartSize)
	if len(data) <= size {
		if _, err := o.OS.PutBytes(ctx, d, data); err != nil {
			return d, fmt.Errorf("object %s: %w", d, err)
		}
		return d, nil
	}
	n := 0
	for off := 0; off < len(data); off += size {
		part := data[off:min(off+size, len(data))]
		if _, err := o.OS.PutBytes(ctx, partName(d, n), part); err != nil {
			return d, fmt.Errorf("object %s part %d: %w", d, n, err)
		}
		n++
	}
	meta := jetstream.ObjectMeta{Name: d, Metadata: map[string]string{partsKey: strconv.Itoa(n)}}
	if _, err := o.OS.Put(ctx, meta, bytes.NewReader(nil)); err != nil {
		return d, fmt.Errorf("object %s: %w", d, err)
	}
	return d, nil
}

func partName(digest string, n int) string { return digest + "." + strconv.Itoa(n) }

// Get implements Store.
func (o *Objects) Get(ctx context.Context, digest string) ([]byte, error) {
	if !digestPattern.MatchString(digest) {
		return nil, fmt.Errorf("blob %q: %w", digest, ErrNotFound)
	}
	info, err := o.OS.GetInfo(ctx, digest)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("blob %s: %w", digest, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	limit := cmp.Or(o.MaxSize, MaxSize)
	parts, isParts := info.Metadata[partsKey]
	if !isParts {
		if int64(info.Size) > limit {
			return nil, fmt.Errorf("blob %s: %d bytes, more than a blob may be (%d)", digest, info.Size, limit)
		}
		ctx, cancel := transferContext(ctx, int64(info.Size))
		defer cancel()
		return o.OS.GetBytes(ctx, digest)
	}
	n, err := strconv.Atoi(parts)
	if err != nil || n < 1 || n > maxParts {
		return nil, fmt.Errorf("blob %s: %q parts", digest, parts)
	}
	var data []byte
	for i := range n {
		pi, err := o.OS.GetInfo(ctx, partName(digest, i))
		if err != nil {
			return nil, fmt.Errorf("blob %s part %d: %w", digest, i, err)
		}
		if int64(len(data))+int64(pi.Size) > limit {
			return nil, fmt.Errorf("blob %s: more than a blob may be (%d bytes)", digest, limit)
		}
		pctx, cancel := transferContext(ctx, int64(pi.Size))
		part, err := o.OS.GetBytes(pctx, partName(digest, i))
		cancel()
		if err != nil {
			return nil, fmt.Errorf("blob %s part %d: %w", digest, i, err)
		}
		data = append(data, part...)
	}
	return data, nil
}

// transferContext bounds one transfer by its size, unless ctx already
// has a deadline: without one the object store waits at most 5 s for
// each chunk's ack, which an object fsynced chunk by chunk on a busy
// server does not always get.
func transferContext(ctx context.Context, size int64) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	// At least a minute, and 1 MB/s beyond it.
	return context.WithTimeout(ctx, time.Minute+time.Duration(size>>20)*time.Second)
}

// Delete implements Store: the blob's object, then its parts.
func (o *Objects) Delete(ctx context.Context, digest string) error {
	if !digestPattern.MatchString(digest) {
		return nil
	}
	info, err := o.OS.GetInfo(ctx, digest)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := o.OS.Delete(ctx, digest); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return err
	}
	n, _ := strconv.Atoi(info.Metadata[partsKey])
	for i := range min(n, maxParts) {
		if err := o.OS.Delete(ctx, partName(digest, i)); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			return err
		}
	}
	return nil
}
