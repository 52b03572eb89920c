package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/core/blobs"
	"github.com/quarrylinux/quarry/core/buildroot"
	"github.com/quarrylinux/quarry/core/engine"
	"github.com/quarrylinux/quarry/core/store"
)

// Images finds the buildroot a job is pinned to on a worker that lacks
// it: the coordinator's record (engine.Image) says which blob holds the
// image's file; the blob is fetched by digest and hashed again, and
// unpacked only if its tar stream (or an OCI image's manifest) is the
// job's pin, as an image on the machine's own disk is. Its Root is
// build.Local's Find.
type Images struct {
	KV    jetstream.KeyValue
	Blobs blobs.Store
	// Store keeps the fetched files; Dir names them as their kind (the
	// unpacking tells kinds apart by name); Cache is where roots are
	// unpacked, as for the machine's own images.
	Store      *store.Store
	Dir, Cache string
	Log        hclog.Logger

	mu    sync.Mutex // one image fetched at a time: they are large
	roots map[string]string
}

// Root is where the image pinned as digest is unpacked, fetching and
// unpacking it first if it is not.
func (im *Images) Root(ctx context.Context, digest string) (string, error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	if r := im.roots[digest]; r != "" {
		return r, nil
	}
	var rec engine.Image
	var found bool
	err := retry(ctx, func() (err error) { found, err = engine.Get(ctx, im.KV, engine.ImageKey(digest), &rec); return err })
	if err != nil {
		return "", err
	}
	if !found {
		return "", errors.New("not on this worker, and the coordinator published no such image")
	}
	if !slices.Contains(engine.ImageSuffixes, rec.Suffix) || engine.CheckArch(rec.Arch) != nil {
		return "", fmt.Errorf("the engine's record of the image names a %q file for %q: refused", rec.Suffix, rec.Arch)
	}
	log := im.Log
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log.Info("fetching buildroot", "digest", digest, "blob", rec.Blob, "size", rec.Size)
	if err := retry(ctx, func() error { return blobs.Fetch(ctx, im.Blobs, im.Store, rec.Blob) }); err != nil {
		return "", err
	}
	path, err := im.name(rec)
	if err != nil {
		return "", err
	}
	u, err := buildroot.UnpackImage(path, rec.Arch, digest, im.Cache)
	if err != nil {
		return "", err
	}
	log.Info("buildroot unpacked", "digest", digest, "dir", u.Dir)
	if im.roots == nil {
		im.roots = map[string]string{}
	}
	im.roots[digest] = u.Dir
	return u.Dir, nil
}

// name links the fetched blob under a name of its kind.
func (im *Images) name(rec engine.Image) (string, error) {
	if err := os.MkdirAll(im.Dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(im.Dir, rec.Blob+rec.Suffix)
	if _, err := os.Lstat(path); err == nil {
		return path, nil
	}
	src := im.Store.Path(rec.Blob)
	if err := os.Link(src, path); err == nil {
		return path, nil
	}
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	return path, store.WriteCacheFunc(path, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}
