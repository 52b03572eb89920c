package rpmfile

import (
	"fmt"

	"github.com/cavaliergopher/rpm"
)

// TagOldFileNames is the file list of the old header layout (RPM v3 and
// rpm 4.0's %_noDirTokens): whole paths, no DIRNAMES/BASENAMES.
const TagOldFileNames = 1027

// FilePaths lists the paths a header's files have, in header order, from
// either layout. rpm reads an old header by compressing OLDFILENAMES into
// DIRNAMES/BASENAMES, and ignores OLDFILENAMES when DIRNAMES is there too
// (lib/legacy.c); so does this, so that what Quarry reads is what rpm
// would install.
func FilePaths(h *rpm.Header) ([]string, error) { return filePaths(libTags{h}) }

// FilePaths is FilePaths of a header read by ReadHeaders.
func (t Tags) FilePaths() ([]string, error) { return filePaths(t) }

// tagReader is a header as Tags and the rpm library read it.
type tagReader interface {
	Has(tag int) bool
	Strings(tag int) []string
	Ints(tag int) []int64
}

type libTags struct{ h *rpm.Header }

func (l libTags) Has(tag int) bool         { return l.h.GetTag(tag) != nil }
func (l libTags) Strings(tag int) []string { return l.h.GetTag(tag).StringSlice() }
func (l libTags) Ints(tag int) []int64     { return l.h.GetTag(tag).Int64Slice() }

func filePaths(h tagReader) ([]string, error) {
	base := h.Strings(tagBaseNames)
	if !h.Has(tagDirNames) && len(base) == 0 {
		return h.Strings(TagOldFileNames), nil
	}
	dirs := h.Strings(tagDirNames)
	idx := h.Ints(tagDirIndexes)
	if len(idx) != len(base) {
		return nil, fmt.Errorf("%d file names but %d directory indexes", len(base), len(idx))
	}
	paths := make([]string, len(base))
	for i, b := range base {
		if idx[i] < 0 || idx[i] >= int64(len(dirs)) {
			return nil, fmt.Errorf("file %s: directory index %d out of range", b, idx[i])
		}
		paths[i] = dirs[idx[i]] + b
	}
	return paths, nil
}
