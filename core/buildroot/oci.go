package buildroot

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// An OCI image (a layout folder, or a tar archive of one, as skopeo's
// oci: and oci-archive: write them) is pinned by its manifest's digest,
// which names every layer's; its root is its layers applied in order
// (whiteouts and opaque folders as the OCI image spec defines them),
// flattened here into one tar stream.

// maxJSON bounds an index, a manifest or a config.
const maxJSON = 4 << 20

// ociArch is the OCI platform architecture of a Quarry arch.
var ociArch = map[string]string{"x86_64": "amd64", "aarch64": "arm64", "ppc64le": "ppc64le", "s390x": "s390x"}

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
	Platform  *struct {
		Architecture string `json:"architecture"`
		OS           string `json:"os"`
	} `json:"platform,omitempty"`
}

type ociIndex struct {
	MediaType string       `json:"mediaType"`
	Manifests []descriptor `json:"manifests"`
	// A manifest read as an index has these instead.
	Config *descriptor  `json:"config"`
	Layers []descriptor `json:"layers"`
}

// blobs reads an OCI layout's blobs by digest: from a folder, or from
// sections of a tar archive.
type blobs interface {
	open(name string) (io.ReadCloser, error) // a layout file: index.json, blobs/sha256/<hex>
	Close() error
}

type dirBlobs struct{ dir string }

// open opens a file of the layout if it is a regular one: a FIFO would
// never open, a device never end.
func (d dirBlobs) open(name string) (io.ReadCloser, error) {
	f, err := os.OpenFile(filepath.Join(d.dir, name), os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	return f, nil
}
func (d dirBlobs) Close() error { return nil }

type tarBlobs struct {
	f       *os.File
	entries map[string][2]int64 // name → offset, size
}

func (t *tarBlobs) open(name string) (io.ReadCloser, error) {
	e, ok := t.entries[name]
	if !ok {
		return nil, fmt.Errorf("%s: not in the archive", name)
	}
	return io.NopCloser(io.NewSectionReader(t.f, e[0], e[1])), nil
}
func (t *tarBlobs) Close() error { return t.f.Close() }

// IsOCI says whether path is an OCI layout folder or an archive of one.
func IsOCI(path string) bool {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return true
	}
	b, err := openArchive(path)
	if err != nil {
		return false
	}
	b.Close()
	return true
}

// openLayout opens an OCI layout folder or archive.
func openLayout(p string) (blobs, error) {
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		if _, err := os.Stat(filepath.Join(p, "oci-layout")); err != nil {
			return nil, fmt.Errorf("a folder without an oci-layout file: not an OCI image layout")
		}
		return dirBlobs{p}, nil
	}
	return openArchive(p)
}

// openArchive indexes a plain tar holding an OCI layout; anything else
// (a rootfs tarball) is an error.
func openArchive(p string) (*tarBlobs, error) {
	if !strings.HasSuffix(p, ".tar") {
		return nil, fmt.Errorf("not an OCI archive")
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	t := &tarBlobs{f: f, entries: map[string][2]int64{}}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		// Only headers are read: the reader seeks over the data.
		name := strings.TrimPrefix(path.Clean(hdr.Name), "./")
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		off, err := f.Seek(0, io.SeekCurrent) // the tar reader reads no further than the header
		if err != nil {
			f.Close()
			return nil, err
		}
		t.entries[name] = [2]int64{off, hdr.Size}
	}
	_, layout := t.entries["oci-layout"]
	_, index := t.entries["index.json"]
	if !layout || !index {
		f.Close()
		return nil, fmt.Errorf("not an OCI archive")
	}
	return t, nil
}

// ociImage is one arch's manifest of an OCI layout.
type ociImage struct {
	blobs    blobs
	manifest string // sha256:<hex>
	layers   []descriptor
}

// openOCI resolves the manifest for arch: the only one, or the one whose
// platform is arch's, through one nested index (a manifest list).
func openOCI(p, arch string) (*ociImage, error) {
	b, err := openLayout(p)
	if err != nil {
		return nil, err
	}
	img, err := resolve(b, arch)
	if err != nil {
		b.Close()
		return nil, err
	}
	return img, nil
}

func resolve(b blobs, arch string) (*ociImage, error) {
	raw, err := readIndex(b)
	if err != nil {
		return nil, err
	}
	var idx ociIndex
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	for depth := 0; ; depth++ {
		d, err := pick(idx.Manifests, arch)
		if err != nil {
			return nil, err
		}
		raw, err := readBlob(b, "manifest", d)
		if err != nil {
			return nil, err
		}
		var m ociIndex
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", d.Digest, err)
		}
		if len(m.Manifests) > 0 && depth == 0 {
			idx = m // a manifest list: pick from it
			continue
		}
		if m.Config == nil {
			return nil, fmt.Errorf("manifest %s: no config: not an image manifest", d.Digest)
		}
		if err := checkConfig(b, *m.Config, arch); err != nil {
			return nil, err
		}
		return &ociImage{blobs: b, manifest: d.Digest, layers: m.Layers}, nil
	}
}

// pick is arch's manifest among ds.
func pick(ds []descriptor, arch string) (descriptor, error) {
	want := ociArch[arch]
	var match []descriptor
	var have []string
	for _, d := range ds {
		if d.Platform == nil || d.Platform.Architecture == want {
			match = append(match, d)
		}
		if d.Platform != nil {
			have = append(have, d.Platform.Architecture)
		}
	}
	switch {
	case len(match) == 1:
		return match[0], nil
	case len(match) == 0:
		return descriptor{}, fmt.Errorf("no manifest for %s (%s); the image has %s", arch, want, strings.Join(have, ", "))
	}
	return descriptor{}, fmt.Errorf("%d manifests could be %s's: name one image per arch", len(match), arch)
}

// checkConfig refuses an image built for another arch.
func checkConfig(b blobs, d descriptor, arch string) error {
	raw, err := readBlob(b, "config", d)
	if err != nil {
		return err
	}
	var c struct {
		Architecture string `json:"architecture"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("config %s: %w", d.Digest, err)
	}
	if c.Architecture != "" && c.Architecture != ociArch[arch] {
		return fmt.Errorf("the image is for %s, not %s (%s)", c.Architecture, arch, ociArch[arch])
	}
	return nil
}

// blobPath is where a layout keeps a digest's blob; the digest is one
// checked (check), so that the path is a file of the layout's blobs.
func blobPath(digest string) string {
	return "blobs/" + strings.Replace(digest, ":", "/", 1)
}

// check refuses a descriptor whose digest is not sha256:<64 hex digits>
// (it names the blob's path: "sha256:../../etc/passwd" would be a host
// file) or whose size is negative or over limit.
func (d descriptor) check(what string, limit int64) error {
	h, ok := strings.CutPrefix(d.Digest, "sha256:")
	if !ok || len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return fmt.Errorf("%s %q: not a sha256:<64 hex digits> digest (only sha256 digests are read)", what, d.Digest)
	}
	if d.Size < 0 || d.Size > limit {
		return fmt.Errorf("%s %s: a size of %d bytes (at most %d)", what, d.Digest, d.Size, limit)
	}
	return nil
}

// readIndex reads the layout's index.json.
func readIndex(b blobs) ([]byte, error) {
	r, err := b.open("index.json")
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxJSON+1))
	if err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	if int64(len(data)) > maxJSON {
		return nil, fmt.Errorf("index.json: larger than %d bytes", maxJSON)
	}
	return data, nil
}

// readBlob reads a small blob (a manifest, a config) that d names,
// checking its size and digest.
func readBlob(b blobs, what string, d descriptor) ([]byte, error) {
	if err := d.check(what, maxJSON); err != nil {
		return nil, err
	}
	r, err := b.open(blobPath(d.Digest))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, d.Digest, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, d.Size+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, d.Digest, err)
	}
	sum := sha256.Sum256(data)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != d.Digest || int64(len(data)) != d.Size {
		return nil, fmt.Errorf("%s %s: the blob is %s (%d bytes or more), not the %d bytes its descriptor names", what, d.Digest, got, len(data), d.Size)
	}
	return data, nil
}

// verified reads a blob, failing at its end if it is not the digest and
// size its descriptor names.
type verified struct {
	r    io.ReadCloser
	lr   io.Reader // r, to a byte past the size
	h    hash.Hash
	n    int64
	want descriptor
}

func (v *verified) Read(p []byte) (int, error) {
	n, err := v.lr.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if err == io.EOF {
		if got := "sha256:" + hex.EncodeToString(v.h.Sum(nil)); got != v.want.Digest || v.n != v.want.Size {
			return n, fmt.Errorf("layer %s: the blob is %s (%d bytes), not the layer its manifest names", v.want.Digest, got, v.n)
		}
	}
	return n, err
}

func (v *verified) Close() error { return v.r.Close() }

// layer reads a layer's blob, no further than a byte past its size.
func (o *ociImage) layer(d descriptor) (io.ReadCloser, error) {
	if err := d.check("layer", 1<<62); err != nil {
		return nil, err
	}
	r, err := o.blobs.open(blobPath(d.Digest))
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", d.Digest, err)
	}
	return &verified{r: r, lr: io.LimitReader(r, d.Size+1), h: sha256.New(), want: d}, nil
}

// verify reads every layer blob through, as stored: an image whose
// layers are not the ones its manifest names is refused before anything
// of it is written.
func (o *ociImage) verify() error {
	for _, d := range o.layers {
		r, err := o.layer(d)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, r)
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// layerTar is a layer's tar stream, decompressed as its media type says.
func (o *ociImage) layerTar(d descriptor) (io.Reader, func(), error) {
	r, err := o.layer(d)
	if err != nil {
		return nil, nil, err
	}
	mt := d.MediaType
	switch {
	case strings.HasSuffix(mt, ".tar") || mt == "application/vnd.docker.image.rootfs.diff.tar":
		return r, func() { r.Close() }, nil
	case strings.HasSuffix(mt, "tar+gzip") || strings.HasSuffix(mt, ".tar.gzip"):
		z, err := gzip.NewReader(r)
		if err != nil {
			r.Close()
			return nil, nil, fmt.Errorf("layer %s: %w", d.Digest, err)
		}
		return z, func() { z.Close(); r.Close() }, nil
	case strings.HasSuffix(mt, "tar+zstd"):
		z, err := zstd.NewReader(r)
		if err != nil {
			r.Close()
			return nil, nil, fmt.Errorf("layer %s: %w", d.Digest, err)
		}
		return z, func() { z.Close(); r.Close() }, nil
	}
	r.Close()
	return nil, nil, fmt.Errorf("layer %s: media type %q is not a tar layer", d.Digest, mt)
}

// layerEntry is where a path of the flattened root comes from: the layer and
// the position in it of the layerEntry that wins; a folder keeps the position
// of its first layerEntry (its contents follow it) and the header of its last.
type layerEntry struct {
	layer, pos int
	dir        bool
	hdr        *tar.Header
}

// tree is the flattened root as the layers are applied: each path's
// entry, and under each folder the paths right below it (entries, or
// folders only named by what is under them), so that what a whiteout
// or a replacement removes is found without looking at anything else.
type tree struct {
	paths map[string]*layerEntry
	kids  map[string]map[string]struct{}
	// opaque is, per folder, the layer (+1) whose opaque whiteout left
	// only that layer's entries below it: another in the same layer, at
	// it or above it, has nothing more to remove there.
	opaque map[string]int
}

func (t *tree) add(name string, e *layerEntry) {
	t.paths[name] = e
	for p := name; p != "."; {
		dir := path.Dir(p)
		k := t.kids[dir]
		if k == nil {
			k = map[string]struct{}{}
			t.kids[dir] = k
		}
		if _, ok := k[p]; ok {
			break // and so are its folders
		}
		k[p] = struct{}{}
		p = dir
	}
}

// below removes what is below dir (not dir) for which drop says so.
// skip, if set, says a folder below which there is nothing to drop.
func (t *tree) below(dir string, drop func(*layerEntry) bool, skip func(string) bool) {
	for child := range t.kids[dir] {
		if skip == nil || !skip(child) {
			t.below(child, drop, skip)
		}
		if e := t.paths[child]; e != nil && drop(e) {
			delete(t.paths, child)
		}
		if t.paths[child] == nil && len(t.kids[child]) == 0 {
			delete(t.kids[dir], child)
			delete(t.kids, child)
			delete(t.opaque, child)
		}
	}
}

// remove removes name and everything below it.
func (t *tree) remove(name string) {
	all := func(*layerEntry) bool { return true }
	t.below(name, all, nil)
	delete(t.paths, name)
}

// entries walks every layer's tar entries in order, each layer's blob
// read to its end (where its digest is checked); fn's error stops it,
// named by the layer.
func (o *ociImage) entries(fn func(layer, pos int, hdr *tar.Header, tr *tar.Reader) error) error {
	for li, d := range o.layers {
		r, done, err := o.layerTar(d)
		if err != nil {
			return err
		}
		err = func() error {
			defer done()
			tr := tar.NewReader(r)
			for pos := 0; ; pos++ {
				hdr, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					return err
				}
				if err := fn(li, pos, hdr, tr); err != nil {
					return err
				}
			}
			_, err := io.Copy(io.Discard, r)
			return err
		}()
		if err != nil {
			return fmt.Errorf("layer %s: %w", d.Digest, err)
		}
	}
	return nil
}

// survivors applies the layers' entries in order: what each path ends
// as. Each whiteout, opaque folder or replacement costs what it removes
// (and an opaque folder what its own layer put below it, once): a layer
// of a million entries that each replace a folder is as quick as any.
func (o *ociImage) survivors() (map[string]*layerEntry, error) {
	t := &tree{paths: map[string]*layerEntry{}, kids: map[string]map[string]struct{}{}, opaque: map[string]int{}}
	err := o.entries(func(li, pos int, hdr *tar.Header, _ *tar.Reader) error {
		name, err := clean(hdr.Name)
		if err != nil {
			return err
		}
		dir, base := path.Split(name)
		dir = strings.TrimSuffix(dir, "/")
		if dir == "" {
			dir = "."
		}
		switch {
		case base == ".wh..wh..opq": // the folder hides what lower layers put in it
			done := func(p string) bool { return t.opaque[p] == li+1 }
			if !done(dir) {
				t.below(dir, func(e *layerEntry) bool { return e.layer < li }, done)
				t.opaque[dir] = li + 1
			}
			return nil
		case strings.HasPrefix(base, ".wh."):
			t.remove(path.Join(dir, strings.TrimPrefix(base, ".wh.")))
			return nil
		}
		isDir := hdr.Typeflag == tar.TypeDir
		if old := t.paths[name]; old != nil && old.dir && isDir {
			old.hdr = hdr // the folder stays where it was first
			return nil
		}
		if !isDir {
			// Nothing stays under what is now a file or a link.
			t.below(name, func(*layerEntry) bool { return true }, nil)
		}
		t.add(name, &layerEntry{layer: li, pos: pos, dir: isDir, hdr: hdr})
		return nil
	})
	return t.paths, err
}

// flatten writes the root's tar stream: every surviving entry, in layer
// order, each once.
func (o *ociImage) flatten(w io.Writer) error {
	paths, err := o.survivors()
	if err != nil {
		return err
	}
	at := map[[2]int]*layerEntry{}
	for _, e := range paths {
		at[[2]int{e.layer, e.pos}] = e
	}
	tw := tar.NewWriter(w)
	err = o.entries(func(li, pos int, hdr *tar.Header, tr *tar.Reader) error {
		e := at[[2]int{li, pos}]
		if e == nil {
			return nil
		}
		out := *hdr
		if e.dir {
			out = *e.hdr // a folder's last metadata, at its first place
		}
		out.Format = tar.FormatPAX
		if err := tw.WriteHeader(&out); err != nil {
			return err
		}
		if out.Typeflag == tar.TypeReg {
			if _, err := io.Copy(tw, tr); err != nil {
				return fmt.Errorf("%s: %w", hdr.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// stream is the flattened root as a reader (flatten runs beside it).
func (o *ociImage) stream() io.ReadCloser {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(o.flatten(pw)) }()
	return &pipeStream{pr: pr, o: o}
}

type pipeStream struct {
	pr *io.PipeReader
	o  *ociImage
}

func (p *pipeStream) Read(b []byte) (int, error) { return p.pr.Read(b) }
func (p *pipeStream) Close() error {
	p.pr.CloseWithError(errors.New("closed"))
	return p.o.blobs.Close()
}
