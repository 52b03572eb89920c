package compose

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/klauspost/compress/gzip"

	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/testing/fixtures"
)

// An unverified repomd.xml can name a small document that decompresses to
// far more than its open size, and a location outside the repository:
// the first is read only one byte past the open size, the second not at
// all, and each is a problem.
func TestCheckRepodataDistrustsRepomd(t *testing.T) {
	var bomb bytes.Buffer
	z := gzip.NewWriter(&bomb)
	z.Write(make([]byte, 256<<20))
	z.Close()
	repomd := fmt.Sprintf(`<repomd><data type="primary"><location href="repodata/bomb.xml.gz"/>`+
		`<checksum type="sha256">%s</checksum><size>%d</size><open-checksum type="sha256">%s</open-checksum><open-size>10</open-size></data>`+
		`<data type="other"><location href="../secret"/><checksum type="sha256">x</checksum></data></repomd>`,
		store.Digest(bomb.Bytes()), bomb.Len(), strings.Repeat("0", 64))
	fsys := fstest.MapFS{"repodata/repomd.xml": {Data: []byte(repomd)}, "repodata/bomb.xml.gz": {Data: bomb.Bytes()}}
	before := fixtures.Allocated()
	problems := CheckRepodata(fsys, ".", "/repo")
	if alloc := fixtures.Allocated() - before; alloc > 16<<20 {
		t.Errorf("checking a %d-byte document that unpacks to 256 MiB allocated %d bytes", bomb.Len(), alloc)
	}
	if len(problems) != 2 || !strings.Contains(problems[0], "does not match its open checksum or size") || !strings.Contains(problems[1], `location "../secret" is not a path inside the repository; not opened`) {
		t.Errorf("problems: %q", problems)
	}
}
