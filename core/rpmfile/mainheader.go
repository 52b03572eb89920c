package rpmfile

import (
	"encoding/binary"
	"fmt"
)

// stringClass stands for any of STRING, STRING_ARRAY and I18NSTRING,
// which rpm lets string tags disagree on.
const stringClass = -1

// mainTags are the types of the main header tags Quarry, compose or the
// rpm library read; rpm type-checks every tag it knows the same way. A
// value of the wrong type would read as absent, or make the rpm library
// index past an array.
var mainTags = map[int]int{
	1000: TypeString, 1001: TypeString, 1002: TypeString, // name, version, release
	1003: TypeInt32,                                         // epoch
	1004: stringClass, 1005: stringClass, 1016: stringClass, // summary, description, group
	1006: TypeInt32, 1007: stringClass, 1009: TypeInt32, 1010: stringClass, 1011: stringClass,
	1014: stringClass, 1015: stringClass, 1020: stringClass, 1021: stringClass, 1022: stringClass,
	1044: stringClass, 1046: TypeInt32, 1064: stringClass, 1124: stringClass, 1125: stringClass,
	1126: stringClass, TagSourcePackage: TypeInt32, 5009: TypeInt64, sigTagLongArchive: TypeInt64,
	tagPayloadDigest: TypeStringArray, tagPayloadDigestAlg: TypeInt32, tagPayloadDigestAlt: TypeStringArray,
	1059: TypeStringArray, 1061: TypeStringArray, 1089: TypeStringArray, // exclude/exclusive/build arches
	1080: TypeInt32, 1081: TypeStringArray, 1082: TypeStringArray, // changelog
	tagBaseNames: TypeStringArray, tagDirNames: TypeStringArray, TagOldFileNames: TypeStringArray,
}

// fileArrays are the per-file tags: each has one element per BASENAMES.
var fileArrays = map[int]int{
	1028: TypeInt32, 1030: TypeInt16, 1033: TypeInt16, 1034: TypeInt32, 1035: TypeStringArray,
	1036: TypeStringArray, 1037: TypeInt32, 1039: TypeStringArray, 1040: TypeStringArray,
	1045: TypeInt32, 1095: TypeInt32, 1096: TypeInt32, 1097: TypeStringArray, 1116: TypeInt32,
	1140: TypeInt32, 1141: TypeInt32, 5008: TypeInt64,
}

const (
	tagBaseNames  = 1117
	tagDirNames   = 1118
	tagDirIndexes = 1116
)

// depTriples are each dependency kind's names, flags and versions, which
// rpm reads in parallel.
var depTriples = [][3]int{
	{1047, 1112, 1113}, {1049, 1048, 1050}, {1054, 1053, 1055}, {1090, 1114, 1115},
	{5046, 5048, 5047}, {5049, 5051, 5050}, {5052, 5054, 5053}, {5055, 5057, 5056},
}

// checkMain checks the main header beyond its structure: a name, version
// and release; the types of the tags that are read; and that parallel
// arrays (files, dependencies) are as long as each other, with directory
// indexes that point at a directory.
func checkMain(h *verified) error {
	for _, tag := range []int{1000, 1001, 1002} {
		if e := h.get(tag); e == nil || len(e.Data) < 2 {
			return fmt.Errorf("header: no %s", map[int]string{1000: "name", 1001: "version", 1002: "release"}[tag])
		}
	}
	for _, e := range h.Entries {
		want, ok := mainTags[e.Tag]
		if !ok {
			want, ok = fileArrays[e.Tag]
		}
		if !ok || e.Type == want || (want == stringClass && (e.Type == TypeString || e.Type == TypeStringArray || e.Type == TypeI18NString)) {
			continue
		}
		return fmt.Errorf("header: %s has type %d, not %d", TagName(e.Tag), e.Type, want)
	}
	for _, d := range depTriples {
		for _, tag := range d {
			want := TypeStringArray
			if tag == d[1] {
				want = TypeInt32
			}
			if e := h.get(tag); e != nil && e.Type != want {
				return fmt.Errorf("header: dependency tag %d has type %d, not %d", tag, e.Type, want)
			}
		}
		if n, f, v := count(h, d[0]), count(h, d[1]), count(h, d[2]); n != f || n != v {
			return fmt.Errorf("header: dependency tag %d has %d names, %d flags and %d versions", d[0], n, f, v)
		}
	}
	files := count(h, tagBaseNames)
	if h.get(tagDirNames) == nil && files == 0 {
		files = count(h, TagOldFileNames) // the old layout: see FilePaths
	}
	for tag := range fileArrays {
		if n := count(h, tag); n != 0 && n != files {
			return fmt.Errorf("header: %s has %d values for %d files", TagName(tag), n, files)
		}
	}
	if e := h.get(tagDirIndexes); e != nil {
		dirs := count(h, tagDirNames)
		for i := 0; i < e.Count; i++ {
			if ix := binary.BigEndian.Uint32(e.Data[4*i:]); int64(ix) >= int64(dirs) {
				return fmt.Errorf("header: file %d is in directory %d of %d", i, ix, dirs)
			}
		}
	}
	return nil
}

// count is how many values tag has, 0 when absent.
func count(h *verified, tag int) int {
	if e := h.get(tag); e != nil {
		return e.Count
	}
	return 0
}
