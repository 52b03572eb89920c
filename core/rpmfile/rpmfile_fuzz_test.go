package rpmfile_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// limitUnpacked makes the fuzzed payloads small, for the test's duration.
func limitUnpacked(f *testing.F) {
	old := rpmfile.MaxUnpacked
	rpmfile.MaxUnpacked = 16 << 20
	f.Cleanup(func() { rpmfile.MaxUnpacked = old })
}

// seedRPMs adds real packages made by rpmbuild, and a synthetic one.
func seedRPMs(f *testing.F) [][]byte {
	f.Helper()
	seeds, err := fixtures.SeedRPMs(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	out := [][]byte{fixtures.SyntheticRPM("synth", "1.0", "1", 1700000000)}
	for _, s := range seeds {
		out = append(out, s.Data)
	}
	return out
}

// FuzzRead reads any bytes as an RPM, as they are and with their digests
// recomputed (so that mutations get past the digest checks): Read either
// fails naming the file or returns a package with a name whose digests
// hold, and its payload unpacks to clean relative paths or fails.
func FuzzRead(f *testing.F) {
	seeds := seedRPMs(f)
	for _, s := range seeds {
		f.Add(s)
	}
	// Signed like Red Hat (version 3) and rpmsign (version 4) sign.
	e := testEntity(f)
	file, err := rpmfile.Read("synth", seeds[0])
	if err != nil {
		f.Fatal(err)
	}
	start, end := file.HeaderRange()
	f.Add(withSignature(f, seeds[0], 268, v3Signature(f, e, seeds[0][start:end])))
	var v4 bytes.Buffer
	if err := openpgp.DetachSign(&v4, e, bytes.NewReader(seeds[0][start:]), nil); err != nil {
		f.Fatal(err)
	}
	f.Add(withSignature(f, seeds[0], 1002, v4.Bytes()))
	limitUnpacked(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, data)
		checkRead(t, fixtures.Redigest(data))
	})
}

func checkRead(t *testing.T, data []byte) {
	before := fixtures.Allocated()
	file, err := rpmfile.Read("fuzz.rpm", data)
	if alloc := fixtures.Allocated() - before; alloc > uint64(32*len(data)+1<<20) {
		t.Fatalf("Read of %d bytes allocated %d bytes", len(data), alloc)
	}
	if err != nil {
		if !strings.HasPrefix(err.Error(), "fuzz.rpm: ") {
			t.Fatalf("error does not name the file: %v", err)
		}
		return
	}
	if file.Name() == "" {
		t.Fatal("read a package without a name")
	}
	start, end := file.HeaderRange()
	if start < 96 || end < start || end > len(data) {
		t.Fatalf("header range %d-%d of %d bytes", start, end, len(data))
	}
	if want := file.Signature.GetTag(273).String(); want != "" {
		sum := sha256.Sum256(data[start:end])
		if hex.EncodeToString(sum[:]) != want {
			t.Fatal("read a package whose header SHA256 does not match")
		}
	}
	// The rpm library's getters index parallel arrays (Supplements reads
	// the wrong flags tag, so no caller uses it).
	file.Requires()
	file.Provides()
	file.Conflicts()
	file.Obsoletes()
	file.Recommends()
	file.Suggests()
	file.Enhances()
	for _, s := range file.Signatures() {
		if s.Version != 3 && s.Version != 4 {
			t.Fatalf("parsed a version %d signature", s.Version)
		}
	}
	before = fixtures.Allocated()
	files, err := file.Files()
	// Unpacking may allocate the unpacked payload, which is at most
	// MaxUnpacked, twice over while reading, and a decoder's window.
	if alloc := fixtures.Allocated() - before; alloc > uint64(2*rpmfile.MaxUnpacked+200<<20) {
		t.Fatalf("Files of %d bytes allocated %d bytes", len(data), alloc)
	}
	if err != nil {
		return
	}
	total := 0
	for p, f := range files {
		if c, err := store.CleanPath(p); err != nil || c != p || strings.HasPrefix(p, "/") {
			t.Fatalf("payload path %q is not clean and relative", p)
		}
		total += len(f.Data)
	}
	if int64(total) > rpmfile.MaxUnpacked {
		t.Fatalf("unpacked %d bytes, more than %d", total, rpmfile.MaxUnpacked)
	}
}

// FuzzParseRaw decodes any bytes as a raw header: what decodes encodes
// to a header that decodes to the same entries, and encodes the same.
func FuzzParseRaw(f *testing.F) {
	for _, s := range seedRPMs(f) {
		_, sig, rest, err := rpmfile.Parts(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sig.Encode())
		f.Add(rest)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		before := fixtures.Allocated()
		h, n, err := rpmfile.ParseRaw(b)
		if alloc := fixtures.Allocated() - before; alloc > uint64(8*len(b)+1<<20) {
			t.Fatalf("ParseRaw of %d bytes allocated %d", len(b), alloc)
		}
		if err != nil {
			return
		}
		if n > len(b) || n < 16 {
			t.Fatalf("length %d of %d bytes", n, len(b))
		}
		enc := h.Encode()
		h2, n2, err := rpmfile.ParseRaw(enc)
		if err != nil || n2 != len(enc) {
			t.Fatalf("re-encoded header does not decode: %v (%d of %d bytes)", err, n2, len(enc))
		}
		if h2.Region != h.Region || len(h2.Entries) != len(h.Entries) {
			t.Fatalf("re-encoded header has region %d and %d entries, not %d and %d", h2.Region, len(h2.Entries), h.Region, len(h.Entries))
		}
		for _, e := range h.Entries {
			g := h2.Get(e.Tag)
			if g == nil || g.Type != e.Type || g.Count != e.Count || !bytes.Equal(g.Data, e.Data) {
				t.Fatalf("tag %d changed in re-encoding", e.Tag)
			}
		}
		if !bytes.Equal(h2.Encode(), enc) {
			t.Fatal("encoding is not stable")
		}
	})
}

// FuzzUnpack unpacks any bytes as a payload of each compression: it fails
// or yields clean relative paths within the declared size, and allocates
// in proportion to that size, not to what the stream's headers claim.
func FuzzUnpack(f *testing.F) {
	compressions := []string{"gzip", "xz", "zstd", "bzip2", "lzma"}
	for _, s := range seedRPMs(f) {
		file, err := rpmfile.Read("seed", s)
		if err != nil {
			f.Fatal(err)
		}
		_, end := file.HeaderRange()
		for i, c := range compressions {
			if c == file.PayloadCompression() {
				f.Add(uint8(i), int64(file.Signature.GetTag(1007).Int64()), s[end:])
			}
		}
	}
	limitUnpacked(f)
	f.Fuzz(func(t *testing.T, kind uint8, size int64, payload []byte) {
		if size > 2*rpmfile.MaxUnpacked {
			size = size % (2 * rpmfile.MaxUnpacked)
		}
		before := fixtures.Allocated()
		files, err := rpmfile.Unpack(compressions[int(kind)%len(compressions)], size, payload)
		if alloc := fixtures.Allocated() - before; alloc > uint64(2*rpmfile.MaxUnpacked+200<<20) {
			t.Fatalf("unpacking %d bytes allocated %d", len(payload), alloc)
		}
		if err != nil {
			return
		}
		total := int64(0)
		for p, file := range files {
			if c, err := store.CleanPath(p); err != nil || c != p || strings.HasPrefix(p, "/") {
				t.Fatalf("payload path %q is not clean and relative", p)
			}
			total += int64(len(file.Data))
		}
		if total > rpmfile.MaxUnpacked || (size >= 0 && total > size) {
			t.Fatalf("unpacked %d bytes for a declared %d", total, size)
		}
	})
}

// FuzzSignature parses any bytes as a signature tag's value: a signature
// that parses is version 3 or 4 with a hash rpm accepts.
func FuzzSignature(f *testing.F) {
	e := testEntity(f)
	data := fixtures.SyntheticRPM("synth", "1.0", "1", 1700000000)
	f.Add(v3Signature(f, e, data))
	var v4 bytes.Buffer
	if err := openpgp.DetachSign(&v4, e, bytes.NewReader(data), nil); err != nil {
		f.Fatal(err)
	}
	f.Add(v4.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := rpmfile.ParseSignature(b)
		if err != nil {
			return
		}
		if (s.Version != 3 && s.Version != 4) || s.Hash == 0 {
			t.Fatalf("parsed version %d, hash %v", s.Version, s.Hash)
		}
	})
}
