package blobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/core/store"
)

// Objects is a Store over a JetStream object store, an object per blob
// named by its sha256.
type Objects struct {
	OS jetstream.ObjectStore
}

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
	if _, err := o.OS.PutBytes(ctx, d, data); err != nil {
		return d, fmt.Errorf("object %s: %w", d, err)
	}
	return d, nil
}

// Get implements Store.
func (o *Objects) Get(ctx context.Context, digest string) ([]byte, error) {
	if !digestPattern.MatchString(digest) {
		return nil, fmt.Errorf("blob %q: %w", digest, ErrNotFound)
	}
	data, err := o.OS.GetBytes(ctx, digest)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("blob %s: %w", digest, ErrNotFound)
	}
	return data, err
}
