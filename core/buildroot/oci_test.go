package buildroot

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

type tentry struct {
	name, body, link string
	typ              byte
	mode             int64
}

func layerTarBytes(t *testing.T, entries []tentry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Size: int64(len(e.body)), Linkname: e.link}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.body))
	}
	tw.Close()
	return buf.Bytes()
}

// ociLayout writes an OCI image layout with one manifest per arch given,
// each of the layers given (media type → uncompressed tar), and returns
// the manifests' digests.
type ociLayer struct {
	mediaType string
	tar       []byte
}

func writeBlob(t *testing.T, dir string, data []byte) string {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", h), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return "sha256:" + h
}

func compress(t *testing.T, mt string, data []byte) []byte {
	var buf bytes.Buffer
	switch {
	case strings.HasSuffix(mt, "gzip"):
		w := gzip.NewWriter(&buf)
		w.Write(data)
		w.Close()
	case strings.HasSuffix(mt, "zstd"):
		w, _ := zstd.NewWriter(&buf)
		w.Write(data)
		w.Close()
	default:
		return data
	}
	return buf.Bytes()
}

func writeLayout(t *testing.T, dir string, images map[string][]ociLayer, platforms bool) map[string]string {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	var manifests []map[string]any
	out := map[string]string{}
	for arch, layers := range images {
		cfg, _ := json.Marshal(map[string]any{"architecture": arch, "os": "linux"})
		cd := writeBlob(t, dir, cfg)
		var ls []map[string]any
		for _, l := range layers {
			blob := compress(t, l.mediaType, l.tar)
			ls = append(ls, map[string]any{"mediaType": l.mediaType, "digest": writeBlob(t, dir, blob), "size": len(blob)})
		}
		m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
			"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)}, "layers": ls})
		md := writeBlob(t, dir, m)
		out[arch] = md
		desc := map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(m)}
		if platforms {
			desc["platform"] = map[string]any{"architecture": arch, "os": "linux"}
		}
		manifests = append(manifests, desc)
	}
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests})
	os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644)
	return out
}

const (
	mtTar  = "application/vnd.oci.image.layer.v1.tar"
	mtGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
	mtZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
)

func threeLayers(t *testing.T, id string) []ociLayer {
	d, r, l := byte(tar.TypeDir), byte(tar.TypeReg), byte(tar.TypeLink)
	return []ociLayer{
		{mtGzip, layerTarBytes(t, []tentry{
			{name: "etc/", typ: d, mode: 0o755}, {name: "etc/os-release", body: "ID=base\n", typ: r}, {name: "etc/old", body: "x", typ: r},
			{name: "usr/", typ: d, mode: 0o755}, {name: "usr/bin/", typ: d, mode: 0o755},
			{name: "usr/bin/tool", body: "#!/bin/sh\n", typ: r, mode: 0o755}, {name: "usr/bin/tool2", link: "usr/bin/tool", typ: l},
			{name: "opt/keep/a", body: "a", typ: r}, {name: "opt/keep/b", body: "b", typ: r}, {name: "opt/gone/f", body: "f", typ: r},
		})},
		{mtTar, layerTarBytes(t, []tentry{
			{name: "etc/.wh.old", typ: r}, {name: "opt/keep/.wh..wh..opq", typ: r}, {name: "opt/keep/c", body: "c", typ: r},
			{name: "etc/os-release", body: "ID=" + id + "\n", typ: r}, {name: "opt/gone", body: "now a file", typ: r},
		})},
		{mtZstd, layerTarBytes(t, []tentry{{name: "etc/", typ: d, mode: 0o750}})},
	}
}

// TestOCIImage: an OCI layout's layers are applied as the image spec
// says (whiteouts, opaque folders, a folder replaced by a file, a
// folder's last metadata), the manifest for the arch is picked from an
// index, the pin is the manifest's digest, and the archive of the layout
// is the same image.
func TestOCIImage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	arm := threeLayers(t, "pebble-arm")
	arm = arm[:2]
	pins := writeLayout(t, dir, map[string][]ociLayer{"amd64": threeLayers(t, "pebble"), "arm64": arm}, true)
	for arch, oci := range map[string]string{"x86_64": "amd64", "aarch64": "arm64"} {
		got, err := Digest(dir, arch)
		if err != nil || got != pins[oci] {
			t.Fatalf("%s: %s %v, want %s", arch, got, err, pins[oci])
		}
	}
	if _, err := Digest(dir, "s390x"); err == nil || !strings.Contains(err.Error(), "no manifest for s390x (s390x); the image has") {
		t.Fatalf("s390x: %v", err)
	}
	cache := t.TempDir()
	u, err := UnpackImage(dir, "x86_64", pins["amd64"], cache)
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) string { b, _ := os.ReadFile(filepath.Join(u.Dir, p)); return string(b) }
	if read("etc/os-release") != "ID=pebble\n" || read("opt/keep/c") != "c" || read("opt/gone") != "now a file" {
		t.Fatalf("layers not applied: %q %q %q", read("etc/os-release"), read("opt/keep/c"), read("opt/gone"))
	}
	for _, p := range []string{"etc/old", "opt/keep/a", "opt/keep/b", "etc/.wh.old", "opt/keep/.wh..wh..opq"} {
		if _, err := os.Lstat(filepath.Join(u.Dir, p)); err == nil {
			t.Errorf("%s survived", p)
		}
	}
	if st, _ := os.Stat(filepath.Join(u.Dir, "etc")); st.Mode().Perm() != 0o750 {
		t.Errorf("etc is %v: the last layer's folder entry is not applied", st.Mode())
	}
	var a, b syscall.Stat_t
	syscall.Stat(filepath.Join(u.Dir, "usr/bin/tool"), &a)
	syscall.Stat(filepath.Join(u.Dir, "usr/bin/tool2"), &b)
	if a.Ino != b.Ino {
		t.Error("the hard link is not one")
	}

	// The same layout as an archive (skopeo's oci-archive:).
	var arc bytes.Buffer
	tw := tar.NewWriter(&arc)
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		rel, _ := filepath.Rel(dir, p)
		if fi.IsDir() {
			if rel != "." {
				tw.WriteHeader(&tar.Header{Name: rel + "/", Typeflag: tar.TypeDir, Mode: 0o755})
			}
			return nil
		}
		data, _ := os.ReadFile(p)
		tw.WriteHeader(&tar.Header{Name: rel, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))})
		tw.Write(data)
		return nil
	})
	tw.Close()
	archive := filepath.Join(t.TempDir(), "image.tar")
	os.WriteFile(archive, arc.Bytes(), 0o644)
	if got, err := Digest(archive, "aarch64"); err != nil || got != pins["arm64"] {
		t.Fatalf("archive: %s %v", got, err)
	}
	ua, err := UnpackImage(archive, "aarch64", pins["arm64"], cache)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(ua.Dir, "etc/os-release")); string(b) != "ID=pebble-arm\n" {
		t.Fatalf("archive unpacked %q", b)
	}
}

// TestOCIImageTampered: a layer blob that is not the one its manifest
// names, an image for another arch, and a pin that is not the manifest's
// are refused, having written nothing.
func TestOCIImageTampered(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	pins := writeLayout(t, dir, map[string][]ociLayer{"amd64": threeLayers(t, "pebble")}, false)
	// The layer's blob rewritten in place (its name, the digest, kept).
	var raw struct {
		Layers []descriptor `json:"layers"`
	}
	m, _ := os.ReadFile(filepath.Join(dir, blobPath(pins["amd64"])))
	json.Unmarshal(m, &raw)
	victim := filepath.Join(dir, blobPath(raw.Layers[1].Digest))
	data, _ := os.ReadFile(victim)
	good := append([]byte(nil), data...)
	copy(data[1024:], "ID=evil\n")
	os.WriteFile(victim, data, 0o644)
	cache := t.TempDir()
	for _, err := range []error{
		func() error { _, err := Digest(dir, "x86_64"); return err }(),
		func() error { _, err := UnpackImage(dir, "x86_64", pins["amd64"], cache); return err }(),
	} {
		if err == nil || !strings.Contains(err.Error(), "layer "+raw.Layers[1].Digest+": the blob is sha256:") {
			t.Errorf("a tampered layer: %v", err)
		}
	}
	os.WriteFile(victim, good, 0o644)
	if _, err := UnpackImage(dir, "x86_64", "sha256:"+strings.Repeat("0", 64), cache); err == nil {
		t.Error("a pin that is not the manifest's was unpacked")
	}
	// No platform in the index: the config's architecture decides.
	if _, err := Digest(dir, "aarch64"); err == nil || !strings.Contains(err.Error(), "the image is for amd64, not aarch64") {
		t.Errorf("another arch's image: %v", err)
	}
	if ents, _ := os.ReadDir(cache); len(ents) > 0 {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "sha256-") && !strings.HasSuffix(e.Name(), ".lock") {
				t.Errorf("the cache holds %s", e.Name())
			}
		}
	}
}

// TestAttackOCIDescriptors: a descriptor's digest names the blob's path
// (blobs/<alg>/<hex>), and its size what is read. A digest that climbs
// out of the layout opens any host file (its hash in the message, a
// device that never ends, a FIFO that never opens); a blob that is a
// link to /dev/zero, or a FIFO, is read or waited on forever, whatever
// its descriptor's size. Each is refused, at once.
func TestAttackOCIDescriptors(t *testing.T) {
	layer := layerTarBytes(t, []tentry{{name: "etc/os-release", body: "ID=x\n", typ: tar.TypeReg}})
	good := sha256.Sum256(layer)
	goodHex := hex.EncodeToString(good[:])
	fifo := filepath.Join(t.TempDir(), "fifo")
	syscall.Mkfifo(fifo, 0o644)
	type attack struct {
		manifest, config, layer string           // digests: "" for the real one
		blob                    func(dir string) // what the layer's blob is
	}
	zero := func(dir string) { os.Symlink("/dev/zero", filepath.Join(dir, "blobs/sha256", goodHex)) }
	attacks := map[string]attack{
		"layer digest climbs to /dev/zero":    {layer: "sha256:../../../../../../../../dev/zero"},
		"layer digest climbs to a FIFO":       {layer: "sha256:../../../../../../../.." + fifo},
		"config digest climbs to /etc/passwd": {config: "sha256:../../../../../../../../etc/passwd"},
		"manifest digest climbs to a FIFO":    {manifest: "sha256:../../../../../../../.." + fifo},
		"layer digest of another algorithm":   {layer: "sha512:" + strings.Repeat("0", 128)},
		"layer blob a link to /dev/zero":      {blob: zero},
		"layer blob a FIFO":                   {blob: func(dir string) { syscall.Mkfifo(filepath.Join(dir, "blobs/sha256", goodHex), 0o644) }},
	}
	for name, a := range attacks {
		dir := filepath.Join(t.TempDir(), "layout")
		os.MkdirAll(filepath.Join(dir, "blobs/sha256"), 0o755)
		os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
		ld := "sha256:" + goodHex
		if a.blob != nil {
			a.blob(dir)
		} else {
			writeBlob(t, dir, layer)
		}
		if a.layer != "" {
			ld = a.layer
		}
		cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
		cd := writeBlob(t, dir, cfg)
		if a.config != "" {
			cd = a.config
		}
		m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
			"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
			"layers": []map[string]any{{"mediaType": mtTar, "digest": ld, "size": len(layer)}}})
		md := writeBlob(t, dir, m)
		if a.manifest != "" {
			md = a.manifest
		}
		idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []map[string]any{
			{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(m)}}})
		os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644)
		done := make(chan error, 1)
		go func() { _, err := Digest(dir, "x86_64"); done <- err }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: the image was pinned", name)
			} else if strings.Contains(err.Error(), "passwd is sha256:") {
				t.Errorf("%s: the host file was read: %v", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: still reading after 10s", name)
		}
	}
}

// TestAttackOCILayersWriteThroughLinks: a later layer's entry under what
// an earlier layer made a link (to a host folder, or climbing out), a
// hard link to a file a later layer whited out or to a path outside, and
// whiteouts that name the parent or climb are refused or stay inside
// the root: nothing is written outside it.
func TestAttackOCILayersWriteThroughLinks(t *testing.T) {
	outside := t.TempDir()
	d, r, s, l := byte(tar.TypeDir), byte(tar.TypeReg), byte(tar.TypeSymlink), byte(tar.TypeLink)
	cases := map[string][][]tentry{
		"file under an absolute link": {
			{{name: "etc", link: outside, typ: s}},
			{{name: "etc/planted", body: "x", typ: r}},
		},
		"folder under a climbing link": {
			{{name: "etc", link: "../../../../../../../../.." + outside, typ: s}},
			{{name: "etc/", typ: d, mode: 0o755}, {name: "etc/sub/", typ: d, mode: 0o755}, {name: "etc/sub/planted", body: "x", typ: r}},
		},
		"link replaced, then written": {
			{{name: "etc/", typ: d, mode: 0o755}},
			{{name: ".wh.etc", typ: r}, {name: "etc", link: outside, typ: s}},
			{{name: "etc/planted", body: "x", typ: r}},
		},
		"hard link to a whited-out file": {
			{{name: "a", body: "a", typ: r}, {name: "h", link: "a", typ: l}},
			{{name: ".wh.a", typ: r}},
		},
		"hard link out": {
			{{name: "h", link: "../../../../../../../.." + outside + "/planted", typ: l}},
		},
		"whiteouts of the parent": {
			{{name: "etc/", typ: d, mode: 0o755}, {name: "etc/keep", body: "k", typ: r}},
			{{name: "etc/.wh..", typ: r}, {name: ".wh...", typ: r}, {name: "etc/.wh...", typ: r}, {name: "x/.wh.../..", typ: r}},
		},
	}
	for name, layers := range cases {
		dir := filepath.Join(t.TempDir(), "layout")
		var ls []ociLayer
		for _, l := range layers {
			ls = append(ls, ociLayer{mtTar, layerTarBytes(t, l)})
		}
		pins := writeLayout(t, dir, map[string][]ociLayer{"amd64": ls}, false)
		u, err := UnpackImage(dir, "x86_64", pins["amd64"], t.TempDir())
		t.Logf("%s: %v", name, err)
		if ents, _ := os.ReadDir(outside); len(ents) > 0 {
			t.Errorf("%s: written outside the root: %v", name, ents)
		}
		if err == nil && name == "hard link to a whited-out file" {
			if _, err := os.Lstat(filepath.Join(u.Dir, "a")); err == nil {
				t.Errorf("%s: the whited-out file is there", name)
			}
		}
	}
}

// TestAttackOCIReplacementsAreNotQuadratic: every whiteout, opaque
// folder or file over a folder looked at every path of the root: a layer
// of 30,000 files over 30,000 of a lower layer's, then 30,000 entries
// that each replace a folder and as many opaque whiteouts of the
// folder of the files (a few hundred KiB compressed) took minutes to
// pin, and ten times as many took days. What each removes is found
// below it, and an opaque folder's own layer is looked at once.
func TestAttackOCIReplacementsAreNotQuadratic(t *testing.T) {
	const n = 30000
	var lower, upper []tentry
	for i := 0; i < n; i++ {
		lower = append(lower, tentry{name: fmt.Sprintf("keep/%d", i), typ: tar.TypeReg})
		upper = append(upper, tentry{name: fmt.Sprintf("big/%d", i), typ: tar.TypeReg})
	}
	upper = append(upper, tentry{name: "p/q", typ: tar.TypeReg})
	for i := 0; i < n; i++ {
		upper = append(upper, tentry{name: "p", typ: tar.TypeReg})
	}
	for i := 0; i < n; i++ {
		upper = append(upper, tentry{name: "big/.wh..wh..opq", typ: tar.TypeReg})
	}
	upper = append(upper, tentry{name: "keep/.wh..wh..opq", typ: tar.TypeReg})
	dir := filepath.Join(t.TempDir(), "layout")
	writeLayout(t, dir, map[string][]ociLayer{"amd64": {
		{mtZstd, layerTarBytes(t, lower)}, {mtZstd, layerTarBytes(t, upper)}}}, false)
	start := time.Now()
	done := make(chan error, 1)
	go func() { _, err := Digest(dir, "x86_64"); done <- err }()
	o, err := openOCI(dir, "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		paths, err := o.survivors()
		if err == nil && (len(paths) != n+1 || paths["p"] == nil || paths["big/0"] == nil) {
			err = fmt.Errorf("%d paths survive, want p and big's files", len(paths))
		}
		done <- err
	}()
	for i := 0; i < 2; i++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("still applying the layers after %v", time.Since(start))
		}
	}
}

// TestAttackOCIFolderChangedInPlace: Digests remembers an image's digest
// by its file's identity, and an OCI layout folder's identity was the
// folder's own, which a file rewritten in it does not change: a layout
// whose index.json now names another manifest was still "pinned", and
// quarry buildroot pin kept the old digest as "unchanged".
func TestAttackOCIFolderChangedInPlace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	pins := writeLayout(t, dir, map[string][]ociLayer{"amd64": threeLayers(t, "pebble")}, false)
	d := &Digests{Path: filepath.Join(t.TempDir(), "digests.json")}
	if got, err := d.Of(dir, "x86_64"); err != nil || got != pins["amd64"] {
		t.Fatalf("%s %v", got, err)
	}
	// Another image in the same folder: its blobs added, index.json
	// rewritten in place (the folder's times are untouched by that).
	other := filepath.Join(t.TempDir(), "other")
	newPins := writeLayout(t, other, map[string][]ociLayer{"amd64": threeLayers(t, "evil")}, false)
	blobs, _ := filepath.Glob(filepath.Join(other, "blobs/sha256/*"))
	for _, b := range blobs {
		data, _ := os.ReadFile(b)
		os.WriteFile(filepath.Join(dir, "blobs/sha256", filepath.Base(b)), data, 0o644)
	}
	idx, _ := os.ReadFile(filepath.Join(other, "index.json"))
	f, err := os.OpenFile(filepath.Join(dir, "index.json"), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(idx)
	f.Close()
	if got, err := d.Of(dir, "x86_64"); err != nil || got != newPins["amd64"] {
		t.Errorf("the changed folder's digest: %s %v, want %s", got, err, newPins["amd64"])
	}
}
