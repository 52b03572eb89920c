// Package rpmfile reads RPM files (binary or source) without any rpm tool:
// it checks their structure, sizes, digests and the form of their
// signatures, and unpacks their cpio payload. Every byte is untrusted: the
// headers are parsed here, never by a library that sizes its buffers from
// them.
package rpmfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/cavaliergopher/rpm"

	"github.com/quarrylinux/quarry/core/store"
)

// File is a read and checked RPM.
type File struct {
	*rpm.Package
	payload    []byte
	spec       payloadSpec
	signatures []*Signature
}

// Read parses data as an RPM and checks its structure, size and digests;
// name is the file's name, for messages.
func Read(name string, data []byte) (*File, error) {
	f, err := read(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

func read(data []byte) (*File, error) {
	c, err := check(data)
	if err != nil {
		return nil, err
	}
	pkg := &rpm.Package{Lead: *c.lead, Signature: libHeader(c.sig, c.sigLen), Header: libHeader(c.hdr, c.hdr.Size)}
	return &File{Package: pkg, payload: data[c.end:], spec: c.spec, signatures: c.sigs}, nil
}

// checked is what check found in an RPM.
type checked struct {
	lead       *rpm.Lead
	sig, hdr   *verified
	sigLen     int
	start, end int
	sigs       []*Signature
	spec       payloadSpec
}

// check parses data as an RPM and checks its structure, size and digests.
func check(data []byte) (*checked, error) {
	lead, err := readLead(data)
	if err != nil {
		return nil, err
	}
	sig, err := verifyHeader(data[leadSize:], RegionSignatures, maxSigTags, maxSigData)
	if err != nil {
		return nil, fmt.Errorf("signature header: %w", err)
	}
	sigLen := sig.Size + (8-sig.Size%8)%8
	start := leadSize + sigLen
	if start > len(data) {
		return nil, errors.New("truncated after the signature header")
	}
	hdr, err := verifyHeader(data[start:], RegionImmutable, maxTags, maxData)
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	end := start + hdr.Size
	sigs, err := checkSigTags(sig)
	if err != nil {
		return nil, err
	}
	if err := checkDigests(sig, hdr, data[start:end], data[end:]); err != nil {
		return nil, err
	}
	if err := checkMain(hdr); err != nil {
		return nil, err
	}
	spec, err := payloadOf(sig, hdr)
	if err != nil {
		return nil, err
	}
	return &checked{lead: lead, sig: sig, hdr: hdr, sigLen: sigLen, start: start, end: end, sigs: sigs, spec: spec}, nil
}

// Headers are a checked RPM's headers read in place: what Read checks,
// without the rpm library's copy of every tag (compose reads thousands of
// packages for a repository's metadata and needs a few tags of each).
type Headers struct {
	Signature, Header Tags
	source, legacy    bool
	start, end        int
}

// ReadHeaders checks data as Read does and returns its headers.
func ReadHeaders(name string, data []byte) (*Headers, error) {
	c, err := check(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Headers{Signature: Tags{c.sig}, Header: Tags{c.hdr}, start: c.start, end: c.end,
		source: c.hdr.get(TagSourcePackage) != nil || c.lead.Type == 1, legacy: c.hdr.Region == 0}, nil
}

// IsSource and HeaderRange say what File's methods of those names say;
// Legacy tells a main header without a region, the layout rpm 3 wrote,
// which rpm retrofits as it reads it.
func (h *Headers) IsSource() bool                { return h.source }
func (h *Headers) Legacy() bool                  { return h.legacy }
func (h *Headers) HeaderRange() (start, end int) { return h.start, h.end }

// Tags reads one header's values as the rpm library's getters do: Strings
// for STRING, STRING_ARRAY and I18NSTRING tags, Ints for INT16, INT32 and
// INT64 ones, nil for another type or an absent tag.
type Tags struct{ h *verified }

// Has says whether the header has tag.
func (t Tags) Has(tag int) bool { return t.h.get(tag) != nil }

func (t Tags) strings(tag int) *span {
	if e := t.h.get(tag); e != nil && (e.Type == TypeString || e.Type == TypeStringArray || e.Type == TypeI18NString) {
		return e
	}
	return nil
}

// Strings is tag's strings.
func (t Tags) Strings(tag int) []string {
	if e := t.strings(tag); e != nil {
		return e.strings()
	}
	return nil
}

// strings decodes a string entry's values (verifyHeader checked that
// there are Count of them, each ended by a NUL).
func (e *span) strings() []string {
	v := make([]string, 0, e.Count)
	for b := e.Data; len(b) > 0; {
		i := bytes.IndexByte(b, 0)
		v, b = append(v, string(b[:i])), b[i+1:]
	}
	return v
}

// ints decodes an integer entry's values: Count of 2, 4 or 8 bytes.
func (e *span) ints() []int64 {
	w := 1 << (e.Type - TypeInt8)
	v := make([]int64, e.Count)
	for i := range v {
		v[i] = int64(bigEndian(e.Data[i*w : (i+1)*w]))
	}
	return v
}

// String is tag's first string, or "".
func (t Tags) String(tag int) string {
	if e := t.strings(tag); e != nil {
		return string(e.Data[:bytes.IndexByte(e.Data, 0)])
	}
	return ""
}

// Ints is tag's numbers.
func (t Tags) Ints(tag int) []int64 {
	e := t.h.get(tag)
	if e == nil || e.Type < TypeInt16 || e.Type > TypeInt64 {
		return nil
	}
	return e.ints()
}

// leadSize is the fixed size of the obsolete lead every RPM starts with.
const leadSize = 96

// readLead checks the lead as rpm does: its magic, a major version of 3
// or 4 and header-style signatures.
func readLead(data []byte) (*rpm.Lead, error) {
	if len(data) < leadSize || !bytes.Equal(data[:4], []byte{0xed, 0xab, 0xee, 0xdb}) {
		return nil, errors.New("not an RPM: no lead")
	}
	if data[4] < 3 || data[4] > 4 {
		return nil, fmt.Errorf("RPM format version %d is not supported", data[4])
	}
	if st := binary.BigEndian.Uint16(data[78:]); st != 5 {
		return nil, fmt.Errorf("signature type %d in the lead: not a header signature", st)
	}
	return &rpm.Lead{
		VersionMajor: int(data[4]), VersionMinor: int(data[5]), Type: int(binary.BigEndian.Uint16(data[6:])),
		Architecture: int(binary.BigEndian.Uint16(data[8:])), Name: string(data[10:76]),
		OperatingSystem: int(binary.BigEndian.Uint16(data[76:])), SignatureType: 5,
	}, nil
}

// libHeader is a verified header in the rpm library's form (its getters
// are what the rest of Quarry reads); size is its length with padding.
func libHeader(h *verified, size int) rpm.Header {
	tags := make(map[int]*rpm.Tag, len(h.Entries)+1)
	if h.Region != 0 {
		tags[h.Region] = &rpm.Tag{ID: h.Region, Type: rpm.TagTypeBinary, Value: []byte(nil)}
	}
	for _, e := range h.Entries {
		t := &rpm.Tag{ID: e.Tag, Type: rpm.TagType(e.Type)}
		switch e.Type {
		case TypeChar, TypeInt8, TypeBin:
			t.Value = append([]byte(nil), e.Data...)
		case TypeInt16, TypeInt32, TypeInt64:
			t.Value = e.ints()
		default:
			t.Value = e.strings()
		}
		tags[e.Tag] = t
	}
	return rpm.Header{Version: 1, Tags: tags, Size: size}
}

// IsSource tells a source RPM from a binary one.
func (f *File) IsSource() bool {
	return f.Header.GetTag(TagSourcePackage) != nil || f.Lead.Type == 1
}

// Signatures are the OpenPGP signatures of the signature header, parsed
// but not verified (see VerifySignatures).
func (f *File) Signatures() []*Signature { return f.signatures }

// Files unpacks the payload's regular files by path (no leading "./" or
// "/"), checking its size and unpacked digest when the headers give them.
func (f *File) Files() (map[string]*store.File, error) {
	files, err := unpack(f.spec, f.payload)
	if err != nil {
		return nil, fmt.Errorf("payload: %v", err)
	}
	return files, nil
}

// FileSpecFile is RPMFILE_SPECFILE, the file flag that marks a source
// RPM's spec among its files (rpm finds the spec by it, not by its name).
const FileSpecFile = 1 << 5

// FileGhost is RPMFILE_GHOST: a file the header lists but the payload
// does not hold; in a .nosrc.rpm, each NoSource:/NoPatch: source.
const FileGhost = 1 << 6

// tagFileFlags is FILEFLAGS, one value per file.
const tagFileFlags = 1037

// FlaggedFiles lists the header's files whose FILEFLAGS have every bit of
// flag set, by path as the payload names them (without a leading "/"),
// and tells whether the header has file flags at all: very old source
// RPMs carry none. The arrays' lengths and directory indexes were checked
// when the header was read.
func (f *File) FlaggedFiles(flag int64) ([]string, bool) {
	flags := f.Header.GetTag(tagFileFlags)
	if flags == nil {
		return nil, false
	}
	// Either layout: rpm reads the old one's OLDFILENAMES as the new
	// one's names before it looks at a flag (FilePaths).
	paths, err := FilePaths(&f.Header)
	if err != nil || len(paths) == 0 {
		return nil, false
	}
	fl := flags.Int64Slice()
	var out []string
	for i, name := range paths {
		if i >= len(fl) || fl[i]&flag != flag {
			continue
		}
		out = append(out, strings.TrimLeft(strings.TrimPrefix(name, "."), "/"))
	}
	return out, true
}
