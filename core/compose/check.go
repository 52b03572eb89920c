package compose

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/quarrylinux/quarry/core/store"
)

// Repomd is a parsed repomd.xml.
type Repomd struct {
	Revision string       `xml:"revision"`
	Data     []RepomdData `xml:"data"`
}

// RepomdData is one <data> record.
type RepomdData struct {
	Type         string   `xml:"type,attr"`
	Checksum     checksum `xml:"checksum"`
	OpenChecksum checksum `xml:"open-checksum"`
	Location     struct {
		Href string `xml:"href,attr"`
	} `xml:"location"`
	Size     int64 `xml:"size"`
	OpenSize int64 `xml:"open-size"`
}

type checksum struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

// ParseRepomd reads repomd.xml.
func ParseRepomd(data []byte) (*Repomd, error) {
	var md Repomd
	if err := xml.Unmarshal(data, &md); err != nil {
		return nil, fmt.Errorf("repomd.xml: %w", err)
	}
	return &md, nil
}

// CheckRepodata checks what a user can check of a repository's repodata
// offline: every file repomd.xml names exists with its size and checksum,
// and decompresses to its open size and open checksum. dir is the
// repository's folder in fsys, shown how messages name it. repomd.xml is
// not trusted yet (its signature is checked after): an href that is not a
// clean path inside the repository is refused, not opened, and
// decompression is streamed into the checksum and stops past the open
// size. It returns one line per problem.
func CheckRepodata(fsys fs.FS, dir, shown string) []string {
	mdPath := filepath.Join(shown, "repodata", "repomd.xml")
	data, err := fs.ReadFile(fsys, path.Join(dir, "repodata", "repomd.xml"))
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", mdPath, err)}
	}
	repomd, err := ParseRepomd(data)
	if err != nil {
		return []string{mdPath + ": " + err.Error()}
	}
	var problems []string
	for _, r := range repomd.Data {
		href := r.Location.Href
		if !fs.ValidPath(href) || href == "." {
			problems = append(problems, fmt.Sprintf("%s: %s record: location %q is not a path inside the repository; not opened", mdPath, r.Type, href))
			continue
		}
		shownPath := filepath.Join(shown, filepath.FromSlash(href))
		f, err := fs.ReadFile(fsys, path.Join(dir, href))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %s record: %v", shownPath, r.Type, err))
			continue
		}
		if r.Checksum.Type != "sha256" || store.Digest(f) != r.Checksum.Value || int64(len(f)) != r.Size {
			problems = append(problems, fmt.Sprintf("%s: does not match the checksum or size in repomd.xml", shownPath))
			continue
		}
		if r.OpenChecksum.Value == "" {
			continue
		}
		sum, size, err := openDigest(href, f, r.OpenSize)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", shownPath, err))
			continue
		}
		if sum != r.OpenChecksum.Value || size != r.OpenSize {
			problems = append(problems, fmt.Sprintf("%s: decompressed content does not match its open checksum or size", shownPath))
		}
	}
	return problems
}

// openDigest is the sha256 and size of data decompressed, reading at most
// one byte more than want: enough to tell a wrong open size.
func openDigest(path string, data []byte, want int64) (string, int64, error) {
	var r io.Reader
	switch {
	case strings.HasSuffix(path, ".gz"):
		z, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return "", 0, err
		}
		r = z
	case strings.HasSuffix(path, ".zst"):
		z, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(128<<20))
		if err != nil {
			return "", 0, err
		}
		defer z.Close()
		r = z
	default:
		r = bytes.NewReader(data)
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(r, max(want, 0)+1))
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
