package rpmfile

import (
	"bytes"
	"fmt"
)

// tagNames names the header tags a non-reproducible build usually differs
// in, for a readable diff.
var tagNames = map[int]string{
	1000: "NAME", 1001: "VERSION", 1002: "RELEASE", 1004: "SUMMARY", 1005: "DESCRIPTION",
	1006: "BUILDTIME", 1007: "BUILDHOST", 1009: "SIZE", 1028: "FILESIZES", 1030: "FILEMODES",
	1033: "FILERDEVS", 1034: "FILEMTIMES", 1035: "FILEDIGESTS", 1036: "FILELINKTOS",
	1027: "OLDFILENAMES", 1037: "FILEFLAGS", 1039: "FILEUSERNAME", 1040: "FILEGROUPNAME", 1044: "SOURCERPM",
	1047: "PROVIDENAME", 1049: "REQUIRENAME", 1080: "CHANGELOGTIME", 1094: "COOKIE",
	1116: "DIRINDEXES", 1117: "BASENAMES", 1118: "DIRNAMES", 1140: "FILECOLORS",
	1141: "FILECLASS", 1142: "CLASSDICT", 5011: "FILEDIGESTALGO", 5092: "PAYLOADDIGEST",
	5093: "PAYLOADDIGESTALGO", 5097: "PAYLOADDIGESTALT",
}

// TagName is a tag's name, or its number.
func TagName(tag int) string {
	if n, ok := tagNames[tag]; ok {
		return fmt.Sprintf("%s (%d)", n, tag)
	}
	return fmt.Sprintf("tag %d", tag)
}

// Diff says where two RPMs differ: the main header tags whose values
// differ (or that only one has), and whether the payloads differ. The
// signature header is left out: it only hashes the rest.
func Diff(a, b []byte) (tags []string, payload bool, err error) {
	ha, pa, err := mainHeader(a)
	if err != nil {
		return nil, false, err
	}
	hb, pb, err := mainHeader(b)
	if err != nil {
		return nil, false, err
	}
	seen := map[int]bool{}
	for _, e := range ha.Entries {
		seen[e.Tag] = true
		if o := hb.Get(e.Tag); o == nil || o.Type != e.Type || o.Count != e.Count || !bytes.Equal(o.Data, e.Data) {
			tags = append(tags, TagName(e.Tag))
		}
	}
	for _, e := range hb.Entries {
		if !seen[e.Tag] {
			tags = append(tags, TagName(e.Tag))
		}
	}
	return tags, !bytes.Equal(pa, pb), nil
}

func mainHeader(data []byte) (*Raw, []byte, error) {
	_, _, rest, err := Parts(data)
	if err != nil {
		return nil, nil, err
	}
	h, n, err := ParseRaw(rest)
	if err != nil {
		return nil, nil, fmt.Errorf("main header: %w", err)
	}
	return h, rest[n:], nil
}
