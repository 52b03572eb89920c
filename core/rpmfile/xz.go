package rpmfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// xzReader reads the xz container itself and hands each block's LZMA2 data
// to the lzma package with a dictionary of at most maxDict: the xz package
// sizes the dictionary from each block header (up to 4 GiB) before it has
// read a byte of data. rpm writes one LZMA2 filter per block, so that is
// all this accepts. Block checks, the index and the footer are verified.
type xzReader struct {
	r       *bytes.Reader
	maxDict int
	err     error
	inBlock bool
	started bool // a stream header has been read
	check   byte
	block   io.Reader
	sum     hash.Hash
	start   int64       // offset of the block being read
	size    uint64      // unpacked bytes of the block being read
	records [][2]uint64 // unpadded and unpacked size of each block of the stream
}

var (
	xzMagic  = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	xzFooter = []byte{'Y', 'Z'}
	xzCRC64  = crc64.MakeTable(crc64.ECMA)
	// xzCheckSize is the size of each check type's field.
	xzCheckSize = map[byte]int{0: 0, 1: 4, 4: 8, 10: 32}
)

func newXZReader(r *bytes.Reader, maxDict int) *xzReader {
	return &xzReader{r: r, maxDict: maxDict}
}

func (x *xzReader) Read(p []byte) (int, error) {
	for x.err == nil {
		if x.inBlock {
			n, err := x.block.Read(p)
			x.sum.Write(p[:n])
			x.size += uint64(n)
			if errors.Is(err, io.EOF) {
				x.err = x.endBlock()
				x.inBlock = false
			} else if err != nil {
				x.err = fmt.Errorf("xz: %w", err)
			}
			if n > 0 {
				return n, nil
			}
			continue
		}
		x.err = x.next()
	}
	return 0, x.err
}

func (x *xzReader) pos() int64 { return x.r.Size() - int64(x.r.Len()) }

// next reads what follows a block or a stream: a stream header, a block
// header, or the index and footer.
func (x *xzReader) next() error {
	if !x.started {
		// Stream padding (NULs in fours) may come between streams.
		for x.r.Len() >= 4 && x.pos() > 0 {
			var four [4]byte
			x.r.Read(four[:])
			if four != [4]byte{} {
				x.r.Seek(-4, io.SeekCurrent)
				break
			}
		}
		if x.r.Len() == 0 && x.pos() > 0 {
			return io.EOF
		}
		return x.streamHeader()
	}
	c, err := x.r.ReadByte()
	if err != nil {
		return io.ErrUnexpectedEOF
	}
	if c == 0 {
		return x.index()
	}
	return x.blockHeader(int(c)*4 + 4)
}

func (x *xzReader) streamHeader() error {
	var h [12]byte
	if _, err := io.ReadFull(x.r, h[:]); err != nil || !bytes.Equal(h[:6], xzMagic) {
		return errors.New("xz: no stream header")
	}
	if h[6] != 0 || crc32.ChecksumIEEE(h[6:8]) != binary.LittleEndian.Uint32(h[8:]) {
		return errors.New("xz: bad stream flags")
	}
	if _, ok := xzCheckSize[h[7]]; !ok {
		return fmt.Errorf("xz: check type %d is not supported", h[7])
	}
	x.check, x.started, x.records = h[7], true, nil
	return nil
}

// blockHeader reads a block header of size bytes (its size byte read) and
// opens its LZMA2 data.
func (x *xzReader) blockHeader(size int) error {
	x.start = x.pos() - 1
	h := make([]byte, size) // at most 1024 bytes
	h[0] = byte(size/4 - 1)
	if _, err := io.ReadFull(x.r, h[1:]); err != nil {
		return io.ErrUnexpectedEOF
	}
	if crc32.ChecksumIEEE(h[:size-4]) != binary.LittleEndian.Uint32(h[size-4:]) {
		return errors.New("xz: block header checksum mismatch")
	}
	flags := h[1]
	if flags&0x3c != 0 || flags&3 != 0 {
		return errors.New("xz: a block must have exactly one filter, LZMA2")
	}
	b := h[2 : size-4]
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} {
		if present { // compressed or unpacked size: checked against the index
			_, n := binary.Uvarint(b)
			if n <= 0 {
				return errors.New("xz: bad block header")
			}
			b = b[n:]
		}
	}
	if len(b) < 3 || b[0] != 0x21 || b[1] != 1 || b[2] > 40 {
		return errors.New("xz: the block's filter is not LZMA2")
	}
	dict := xzDictSize(b[2])
	if dict > int64(x.maxDict) {
		return fmt.Errorf("xz: dictionary of %d bytes, more than the %d rpm writes", dict, x.maxDict)
	}
	for _, c := range b[3:] {
		if c != 0 {
			return errors.New("xz: bad block header padding")
		}
	}
	r, err := lzma.Reader2Config{DictCap: int(max(dict, lzma.MinDictCap))}.NewReader2(x.r)
	if err != nil {
		return fmt.Errorf("xz: %w", err)
	}
	x.block, x.inBlock, x.size = r, true, 0
	switch x.check {
	case 1:
		x.sum = crc32.NewIEEE()
	case 4:
		x.sum = crc64.New(xzCRC64)
	case 10:
		x.sum = sha256.New()
	default:
		x.sum = nopHash{}
	}
	return nil
}

func xzDictSize(b byte) int64 {
	if b == 40 {
		return 1<<32 - 1
	}
	return int64(2|b&1) << (b/2 + 11)
}

// endBlock reads the block's padding and check and records it.
func (x *xzReader) endBlock() error {
	unpadded := x.pos() - x.start
	for x.pos()%4 != 0 {
		if c, err := x.r.ReadByte(); err != nil || c != 0 {
			return errors.New("xz: bad block padding")
		}
	}
	want := make([]byte, xzCheckSize[x.check])
	if _, err := io.ReadFull(x.r, want); err != nil {
		return io.ErrUnexpectedEOF
	}
	got := x.sum.Sum(nil)
	if x.check == 1 || x.check == 4 { // CRCs are stored little-endian
		for i, j := 0, len(got)-1; i < j; i, j = i+1, j-1 {
			got[i], got[j] = got[j], got[i]
		}
	}
	if !bytes.Equal(got, want) {
		return errors.New("xz: block check mismatch")
	}
	x.records = append(x.records, [2]uint64{uint64(unpadded) + uint64(len(want)), x.size})
	return nil
}

// index reads the index (its indicator read) and the footer, and checks
// that they describe the blocks that were read.
func (x *xzReader) index() error {
	start := x.pos() - 1
	rest := x.r
	n, err := binary.ReadUvarint(rest)
	if err != nil || n != uint64(len(x.records)) {
		return errors.New("xz: the index does not list the stream's blocks")
	}
	for _, rec := range x.records {
		for _, want := range rec {
			if v, err := binary.ReadUvarint(rest); err != nil || v != want {
				return errors.New("xz: the index does not match the blocks")
			}
		}
	}
	for x.pos()%4 != 0 {
		if c, err := x.r.ReadByte(); err != nil || c != 0 {
			return errors.New("xz: bad index padding")
		}
	}
	size := x.pos() - start
	var tail [16]byte // index CRC32, then the footer
	if _, err := io.ReadFull(x.r, tail[:]); err != nil {
		return io.ErrUnexpectedEOF
	}
	x.r.Seek(start, io.SeekStart)
	idx := make([]byte, size)
	x.r.Read(idx)
	x.r.Seek(16, io.SeekCurrent)
	footer := tail[4:]
	switch {
	case crc32.ChecksumIEEE(idx) != binary.LittleEndian.Uint32(tail[:4]):
		return errors.New("xz: index checksum mismatch")
	case crc32.ChecksumIEEE(footer[4:10]) != binary.LittleEndian.Uint32(footer[:4]) || !bytes.Equal(footer[10:], xzFooter):
		return errors.New("xz: bad stream footer")
	case int64(binary.LittleEndian.Uint32(footer[4:8])+1)*4 != size+4 || footer[8] != 0 || footer[9] != x.check:
		return errors.New("xz: the stream footer does not match its header or index")
	}
	x.started = false
	return nil
}

// nopHash is the check of a stream that has none.
type nopHash struct{}

func (nopHash) Write(p []byte) (int, error) { return len(p), nil }
func (nopHash) Sum(b []byte) []byte         { return b }
func (nopHash) Reset()                      {}
func (nopHash) Size() int                   { return 0 }
func (nopHash) BlockSize() int              { return 1 }
