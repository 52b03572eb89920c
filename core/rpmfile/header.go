package rpmfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// Header data types, as rpm numbers them.
const (
	TypeNull        = 0
	TypeChar        = 1
	TypeInt8        = 2
	TypeInt16       = 3
	TypeInt32       = 4
	TypeInt64       = 5
	TypeString      = 6
	TypeBin         = 7
	TypeStringArray = 8
	TypeI18NString  = 9
)

// Region tags: the first entry of a signature header and of a main header,
// marking the whole header as the signed, immutable region.
const (
	RegionSignatures = 62
	RegionImmutable  = 63
)

var headerMagic = []byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0}

// Entry is one raw header entry: its tag, type, count and encoded value.
type Entry struct {
	Tag   int
	Type  int
	Count int
	Data  []byte
}

// Raw is a header as its entries, for rewriting: the signature header when
// a package is signed, and the headers of synthetic test packages.
type Raw struct {
	Region  int // RegionSignatures, RegionImmutable or 0
	Entries []Entry
}

// Get returns the entry of tag, or nil.
func (h *Raw) Get(tag int) *Entry {
	for i := range h.Entries {
		if h.Entries[i].Tag == tag {
			return &h.Entries[i]
		}
	}
	return nil
}

// Set replaces or adds an entry.
func (h *Raw) Set(e Entry) {
	if old := h.Get(e.Tag); old != nil {
		*old = e
		return
	}
	h.Entries = append(h.Entries, e)
}

// Delete removes tag's entry.
func (h *Raw) Delete(tag int) {
	out := h.Entries[:0]
	for _, e := range h.Entries {
		if e.Tag != tag {
			out = append(out, e)
		}
	}
	h.Entries = out
}

// ParseRaw decodes the header at the start of b and returns it with its
// length in bytes (without the padding a signature header is followed by).
// The header's structure is checked as Read checks it.
func ParseRaw(b []byte) (*Raw, int, error) {
	v, err := verifyHeader(b, 0, maxTags, maxData)
	if err != nil {
		return nil, 0, err
	}
	h := &Raw{Region: v.Region, Entries: make([]Entry, len(v.Entries))}
	for i, e := range v.Entries {
		h.Entries[i] = Entry{Tag: e.Tag, Type: e.Type, Count: e.Count, Data: append([]byte(nil), e.Data...)}
	}
	return h, v.Size, nil
}

// valueLen is the length of count values of typ at the start of b.
func valueLen(typ, count int, b []byte) (int, error) {
	size := 0
	switch typ {
	case TypeChar, TypeInt8, TypeBin:
		size = count
	case TypeInt16:
		size = 2 * count
	case TypeInt32:
		size = 4 * count
	case TypeInt64:
		size = 8 * count
	case TypeString, TypeStringArray, TypeI18NString:
		for i := 0; i < count; i++ {
			j := bytes.IndexByte(b[size:], 0)
			if j < 0 {
				return 0, errors.New("unterminated string")
			}
			size += j + 1
		}
	default:
		return 0, fmt.Errorf("unknown type %d", typ)
	}
	if size > len(b) {
		return 0, errors.New("value out of range")
	}
	return size, nil
}

func alignment(typ int) int {
	switch typ {
	case TypeInt16:
		return 2
	case TypeInt32:
		return 4
	case TypeInt64:
		return 8
	}
	return 1
}

// Encode writes the header: entries sorted by tag, values aligned as rpm
// aligns them, and the region trailer last when there is a region.
func (h *Raw) Encode() []byte {
	entries := append([]Entry(nil), h.Entries...)
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Tag < entries[j].Tag })
	il := len(entries)
	if h.Region != 0 {
		il++
	}
	var index, data bytes.Buffer
	putIndex := func(tag, typ, off, count int) {
		var ix [16]byte
		binary.BigEndian.PutUint32(ix[0:], uint32(tag))
		binary.BigEndian.PutUint32(ix[4:], uint32(typ))
		binary.BigEndian.PutUint32(ix[8:], uint32(int32(off)))
		binary.BigEndian.PutUint32(ix[12:], uint32(count))
		index.Write(ix[:])
	}
	for _, e := range entries {
		for data.Len()%alignment(e.Type) != 0 {
			data.WriteByte(0)
		}
		putIndex(e.Tag, e.Type, data.Len(), e.Count)
		data.Write(e.Data)
	}
	if h.Region != 0 {
		// The trailer is an index entry stored as data; its negative offset
		// says the region spans every entry.
		var region bytes.Buffer
		region.Write(index.Bytes())
		index.Reset()
		putIndex(h.Region, TypeBin, data.Len(), 16)
		var trailer [16]byte
		binary.BigEndian.PutUint32(trailer[0:], uint32(h.Region))
		binary.BigEndian.PutUint32(trailer[4:], TypeBin)
		binary.BigEndian.PutUint32(trailer[8:], uint32(int32(-il*16)))
		binary.BigEndian.PutUint32(trailer[12:], 16)
		data.Write(trailer[:])
		index.Write(region.Bytes())
	}
	out := make([]byte, 0, 16+index.Len()+data.Len())
	out = append(out, headerMagic...)
	out = binary.BigEndian.AppendUint32(out, uint32(il))
	out = binary.BigEndian.AppendUint32(out, uint32(data.Len()))
	out = append(out, index.Bytes()...)
	return append(out, data.Bytes()...)
}

// String makes a STRING entry.
func String(tag int, s string) Entry {
	return Entry{Tag: tag, Type: TypeString, Count: 1, Data: append([]byte(s), 0)}
}

// Strings makes a STRING_ARRAY entry.
func Strings(tag int, ss ...string) Entry {
	var b []byte
	for _, s := range ss {
		b = append(append(b, s...), 0)
	}
	return Entry{Tag: tag, Type: TypeStringArray, Count: len(ss), Data: b}
}

// I18N makes an I18NSTRING entry (summary, description, group).
func I18N(tag int, s string) Entry {
	e := String(tag, s)
	e.Type = TypeI18NString
	return e
}

// Int32 makes an INT32 entry.
func Int32(tag int, vs ...uint32) Entry {
	b := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return Entry{Tag: tag, Type: TypeInt32, Count: len(vs), Data: b}
}

// Int16 makes an INT16 entry.
func Int16(tag int, vs ...uint16) Entry {
	b := make([]byte, 0, 2*len(vs))
	for _, v := range vs {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	return Entry{Tag: tag, Type: TypeInt16, Count: len(vs), Data: b}
}

// Bin makes a BIN entry.
func Bin(tag int, b []byte) Entry {
	return Entry{Tag: tag, Type: TypeBin, Count: len(b), Data: append([]byte(nil), b...)}
}

// Parts splits an RPM file into its lead, its signature header (decoded)
// and the rest: the main header and the payload, which a signature covers.
func Parts(data []byte) (lead []byte, sig *Raw, rest []byte, err error) {
	if len(data) < leadSize || !bytes.Equal(data[:4], []byte{0xed, 0xab, 0xee, 0xdb}) {
		return nil, nil, nil, errors.New("not an RPM: no lead")
	}
	sig, n, err := ParseRaw(data[leadSize:])
	if err != nil {
		return nil, nil, nil, fmt.Errorf("signature header: %w", err)
	}
	start := leadSize + n + (8-n%8)%8
	if start > len(data) {
		return nil, nil, nil, errors.New("truncated after the signature header")
	}
	return data[:leadSize], sig, data[start:], nil
}

// Assemble is the inverse of Parts: lead, signature header padded to 8
// bytes, then the main header and payload unchanged.
func Assemble(lead []byte, sig *Raw, rest []byte) []byte {
	s := sig.Encode()
	out := make([]byte, 0, len(lead)+len(s)+8+len(rest))
	out = append(append(out, lead...), s...)
	out = append(out, make([]byte, (8-len(s)%8)%8)...)
	return append(out, rest...)
}
