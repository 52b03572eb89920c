// Package blobs moves jobs' inputs and outputs between machines by
// digest: a content-addressed store every worker and coordinator reaches
// (the JetStream object store today, S3 perhaps later), behind Store.
//
// Such a store is shared, so it is not trusted: anyone who can write to
// it can put any bytes under any name. Fetch is the one way in from it:
// it hashes what it read and refuses it unless it is the digest asked
// for, before the bytes reach a local store (core/store).
package blobs

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/quarrylinux/quarry/core/store"
)

// Store is a shared blob store, by sha256.
type Store interface {
	Has(ctx context.Context, digest string) (bool, error)
	// Put stores data under its digest, which it returns.
	Put(ctx context.Context, data []byte) (string, error)
	// Get returns what the store holds under digest, unchecked (Fetch
	// checks it); ErrNotFound when it holds nothing there.
	Get(ctx context.Context, digest string) ([]byte, error)
	// Delete removes what the store holds under digest (Fetch removes
	// content that is not its name's, so that an honest Put can follow).
	Delete(ctx context.Context, digest string) error
}

// ErrNotFound is a digest the shared store does not hold.
var ErrNotFound = errors.New("not in the blob store")

var digestPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// MismatchError is a blob whose content is not its name's.
type MismatchError struct {
	Want, Got string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("blob %s: its content hashes to %s: refused", e.Want, e.Got)
}

// Fetch copies digest from the shared store into the local one, unless
// it is there already, refusing content that is not digest's.
func Fetch(ctx context.Context, from Store, to *store.Store, digest string) error {
	if !digestPattern.MatchString(digest) {
		return fmt.Errorf("blob %q: not a sha256 digest", digest)
	}
	if to.Has(digest) {
		return nil
	}
	data, err := from.Get(ctx, digest)
	if err != nil {
		return fmt.Errorf("fetch blob %s: %w", digest, err)
	}
	if got := store.Digest(data); got != digest {
		// Left there, it would stand for digest for good: Put and
		// Upload skip a name the store holds.
		if err := from.Delete(ctx, digest); err != nil {
			return fmt.Errorf("%w (and deleting it: %v)", &MismatchError{Want: digest, Got: got}, err)
		}
		return &MismatchError{Want: digest, Got: got}
	}
	if _, err := to.Put(data); err != nil {
		return fmt.Errorf("fetch blob %s: %w", digest, err)
	}
	return nil
}

// Upload copies digest from the local store into the shared one, unless
// it is there already (the local store checks its own copy's content).
func Upload(ctx context.Context, from *store.Store, to Store, digest string) error {
	ok, err := to.Has(ctx, digest)
	if err != nil {
		return fmt.Errorf("upload blob %s: %w", digest, err)
	}
	if ok {
		return nil
	}
	data, err := from.Get(digest)
	if err != nil {
		return fmt.Errorf("upload blob %s: %w", digest, err)
	}
	if _, err := to.Put(ctx, data); err != nil {
		return fmt.Errorf("upload blob %s: %w", digest, err)
	}
	return nil
}
