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
func FilePaths(h *rpm.Header) ([]string, error) {
	base := h.GetTag(tagBaseNames).StringSlice()
	if h.GetTag(tagDirNames) == nil && len(base) == 0 {
		return h.GetTag(TagOldFileNames).StringSlice(), nil
	}
	dirs := h.GetTag(tagDirNames).StringSlice()
	idx := h.GetTag(tagDirIndexes).Int64Slice()
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
