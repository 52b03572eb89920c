package dispatch

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/quarrylinux/quarry/core/blobs"
	"github.com/quarrylinux/quarry/core/engine"
	"github.com/quarrylinux/quarry/core/store"
)

// PublishImage makes the buildroot image at path, pinned as digest for
// arch, reachable to the workers that do not have it: its file (an OCI
// layout folder as an OCI archive) goes into the blob store by sha256,
// and engine.Image records it under the pin. It does nothing when the
// record is there and names what this image's file is, and repairs a
// record that names anything else: the record is no one's to trust, but
// a wrong one would fail every worker that lacks the image.
func PublishImage(ctx context.Context, kv jetstream.KeyValue, bs blobs.Store, path, arch, digest string) error {
	data, suffix, err := imageFile(path)
	if err != nil {
		return fmt.Errorf("buildroot %s image %s: %w", arch, path, err)
	}
	want := engine.Image{Blob: store.Digest(data), Size: int64(len(data)), Suffix: suffix, Arch: arch}
	var rec engine.Image
	found, err := engine.Get(ctx, kv, engine.ImageKey(digest), &rec)
	if err != nil {
		return fmt.Errorf("buildroot %s: %w", arch, err)
	}
	if found && rec == want {
		if ok, err := bs.Has(ctx, want.Blob); err != nil || ok {
			return err
		}
	}
	if _, err := bs.Put(ctx, data); err != nil {
		return fmt.Errorf("buildroot %s image %s: %w", arch, path, err)
	}
	if err := engine.Put(ctx, kv, engine.ImageKey(digest), &want); err != nil {
		return fmt.Errorf("buildroot %s: %w", arch, err)
	}
	return nil
}

// imageFile is the image's file as a worker unpacks it, and the suffix
// that says what it is (buildroot.Open tells the kinds apart by name).
func imageFile(path string) ([]byte, string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", err
	}
	if st.IsDir() {
		data, err := archiveLayout(path)
		return data, ".tar", err
	}
	for _, s := range engine.ImageSuffixes {
		if strings.HasSuffix(path, s) {
			data, err := os.ReadFile(path)
			return data, s, err
		}
	}
	return nil, "", fmt.Errorf("not one of %s", strings.Join(engine.ImageSuffixes, ", "))
}

// archiveLayout is an OCI layout folder as an OCI archive: a plain tar of
// its folders and files. A link in it is refused, as buildroot refuses
// one when it reads the folder.
func archiveLayout(dir string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := e.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() && !info.IsDir() {
			return fmt.Errorf("%s: not a file or folder", rel)
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if err := tw.WriteHeader(hdr); err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
