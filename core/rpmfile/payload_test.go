package rpmfile_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"testing"

	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// A cpio entry that claims 3 GiB, in a payload that declares 4 GiB but
// holds a few bytes, costs what arrives, not what is claimed.
func TestUnpackAllocatesWhatArrives(t *testing.T) {
	var cpio bytes.Buffer
	fmt.Fprintf(&cpio, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", 1, 0o100644, 0, 0, 1, 0, 3<<30, 0, 0, 0, 0, 6, 0)
	cpio.WriteString("./big\x00\x00\x00\x00\x00hello")
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write(cpio.Bytes())
	z.Close()
	before := fixtures.Allocated()
	_, err := rpmfile.Unpack("gzip", 4<<30, gz.Bytes())
	if alloc := fixtures.Allocated() - before; alloc > 8<<20 {
		t.Errorf("unpacking %d bytes that claim 3 GiB allocated %d bytes", gz.Len(), alloc)
	}
	if err == nil {
		t.Fatal("a truncated payload unpacked")
	}
}
