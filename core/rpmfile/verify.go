package rpmfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// Limits rpm puts on headers (lib/header.c, hdrblobRead): a main header
// has at most 65535 entries and 256 MiB of data, a signature header 32
// entries and 64 MiB; no array but a BIN value has more than 1M elements.
const (
	maxTags       = 0xffff
	maxData       = 0x0fffffff
	maxSigTags    = 32
	maxSigData    = 64 << 20
	maxArrayCount = 0xfffff
	regionImage   = 61  // HEADERIMAGE: some old packages' signature region trailers say this
	firstTag      = 100 // HEADERI18NTABLE: no entry but a region has a smaller tag
)

// span is one entry of a verified header; Data points into the header.
type span struct {
	Tag, Type, Count int
	Data             []byte
}

// verified is a header whose structure has been checked.
type verified struct {
	Region  int // the region tag, 0 when the header has none
	Entries []span
	Size    int // magic, counts, index and data, without padding
	byTag   map[int]int
}

// get returns tag's entry, or nil: found by binary search when the tags
// ascend (as rpm writes them), else through byTag.
func (h *verified) get(tag int) *span {
	if h.byTag == nil {
		if i, ok := sort.Find(len(h.Entries), func(i int) int { return tag - h.Entries[i].Tag }); ok {
			return &h.Entries[i]
		}
		return nil
	}
	if i, ok := h.byTag[tag]; ok {
		return &h.Entries[i]
	}
	return nil
}

// verifyHeader checks the header at the start of b the way rpm does
// before it trusts one, and more strictly: every entry's type is known,
// its count is possible, its value fits, is aligned and overlaps no other;
// the region, when there is one, spans the whole header exactly (a header
// without one is rpm 3's layout, which rpm reads too); and no tag appears
// twice, so that what Quarry checks is what rpm would use. region is the
// region tag the header may have, 0 for either. Nothing is allocated in
// proportion to a length field: every length is checked against the bytes
// there are.
func verifyHeader(b []byte, region, tagLimit, dataLimit int) (*verified, error) {
	if len(b) < 16 || !bytes.Equal(b[:8], headerMagic) {
		return nil, errors.New("no header magic")
	}
	il := int(binary.BigEndian.Uint32(b[8:12]))
	dl := int(binary.BigEndian.Uint32(b[12:16]))
	if il < 1 || il > tagLimit || dl > dataLimit {
		return nil, fmt.Errorf("%d entries and %d bytes of data: more than a header may hold", il, dl)
	}
	size := 16 + il*16 + dl
	if len(b) < size {
		return nil, fmt.Errorf("header of %d entries and %d bytes is truncated", il, dl)
	}
	index, data := b[16:16+il*16], b[16+il*16:size]
	entry := func(i int) (tag, typ, off, count int) {
		ix := index[i*16:]
		return int(binary.BigEndian.Uint32(ix[0:])), int(binary.BigEndian.Uint32(ix[4:])),
			int(int32(binary.BigEndian.Uint32(ix[8:]))), int(binary.BigEndian.Uint32(ix[12:]))
	}
	h := &verified{Size: size, Entries: make([]span, 0, il)}
	first := 0
	rdl := dl // the region's data ends with its trailer
	if tag, _, _, _ := entry(0); tag == region || (region == 0 && (tag == RegionSignatures || tag == RegionImmutable)) {
		if err := verifyRegion(index, data, tag); err != nil {
			return nil, err
		}
		h.Region, first = tag, 1
	}
	end := 0
	for i := first; i < il; i++ {
		tag, typ, off, count := entry(i)
		bad := func(format string, args ...any) error {
			return fmt.Errorf("entry %d (tag %d, type %d, offset %d, count %d): %s", i, tag, typ, off, count, fmt.Sprintf(format, args...))
		}
		if h.byTag == nil && len(h.Entries) > 0 && tag <= h.Entries[len(h.Entries)-1].Tag {
			h.byTag = make(map[int]int, il) // out of order: index by tag
			for j, e := range h.Entries {
				h.byTag[e.Tag] = j
			}
		}
		_, dup := h.byTag[tag]
		switch {
		case tag < firstTag || tag == RegionSignatures || tag == RegionImmutable:
			return nil, bad("not a tag an entry may have")
		case dup:
			return nil, bad("tag %d appears twice", tag)
		case typ < TypeChar || typ > TypeI18NString:
			return nil, bad("unknown type")
		case count < 1 || count > dl || (typ != TypeBin && count > maxArrayCount):
			return nil, bad("impossible count")
		case off < end || off > dl:
			return nil, bad("value out of order, overlapping or out of range")
		case off%alignment(typ) != 0:
			return nil, bad("value not aligned")
		case typ == TypeString && count != 1:
			return nil, bad("a STRING has one value")
		}
		n, err := valueLen(typ, count, data[off:])
		if err != nil {
			return nil, bad("%v", err)
		}
		end = off + n
		if h.Region != 0 && end > rdl-16 {
			return nil, bad("value overlaps the region trailer")
		}
		if h.byTag != nil {
			h.byTag[tag] = len(h.Entries)
		}
		h.Entries = append(h.Entries, span{Tag: tag, Type: typ, Count: count, Data: data[off:end]})
	}
	return h, nil
}

// verifyRegion checks the region entry and its trailer: the trailer is the
// last 16 bytes of data and says the region spans every entry. rpm allows a
// signature region smaller than its header; Quarry does not, so that no
// entry sits outside what rpm and Quarry agree is the header.
func verifyRegion(index, data []byte, tag int) error {
	typ := int(binary.BigEndian.Uint32(index[4:]))
	off := int(int32(binary.BigEndian.Uint32(index[8:])))
	count := int(binary.BigEndian.Uint32(index[12:]))
	if typ != TypeBin || count != 16 || off != len(data)-16 {
		return fmt.Errorf("region tag %d: type %d, offset %d, count %d: not a region of this header", tag, typ, off, count)
	}
	tr := data[off:]
	ttag := int(binary.BigEndian.Uint32(tr[0:]))
	ttyp := int(binary.BigEndian.Uint32(tr[4:]))
	toff := -int(int32(binary.BigEndian.Uint32(tr[8:])))
	tcount := int(binary.BigEndian.Uint32(tr[12:]))
	if tag == RegionSignatures && ttag == regionImage {
		ttag = RegionSignatures
	}
	if ttag != tag || ttyp != TypeBin || tcount != 16 || toff != len(index) {
		return fmt.Errorf("region tag %d: its trailer (tag %d, type %d, offset %d, count %d) does not span the header's %d entries", tag, ttag, ttyp, -toff, tcount, len(index)/16)
	}
	return nil
}
