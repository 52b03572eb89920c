// Package readback reads back what build jobs wrote: every built RPM's
// header as plain data (name, EVR, arch, Provides, Obsoletes, Conflicts,
// files, triggers), checked against what the job's spec declared. The
// core judges what was built, not what a spec query said would be: a
// %install can run a nested rpmbuild and drop any RPM into RPMS/.
package readback

import (
	"fmt"
	"strconv"

	"github.com/cavaliergopher/rpm"

	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/rpmfile"
)

// RPM is what one built RPM's header says, as the gate reads it.
type RPM struct {
	File   string `json:"file"`   // as the job wrote it
	SHA256 string `json:"sha256"` // in the store
	// Job and Package are the job that wrote it and its source package.
	Job     string `json:"job"`
	Package string `json:"package"`

	Name    string `json:"name"`
	EVR     string `json:"evr"` // [epoch:]version-release, as plan.Binary's
	Arch    string `json:"arch"`
	Version string `json:"version"`
	Release string `json:"release"`

	Provides  []plan.Dep `json:"provides,omitempty"`
	Obsoletes []plan.Dep `json:"obsoletes,omitempty"`
	Conflicts []plan.Dep `json:"conflicts,omitempty"`
	// Supplements and Enhances are reverse weak dependencies: dnf pulls
	// the package in when what they name is installed.
	Supplements []plan.Dep `json:"supplements,omitempty"`
	Enhances    []plan.Dep `json:"enhances,omitempty"`
	Files       []File     `json:"files,omitempty"`
	// Triggers are the package names of %trigger scriptlets; FileTriggers
	// the path prefixes of %filetrigger and %transfiletrigger ones.
	Triggers     []string `json:"triggers,omitempty"`
	FileTriggers []string `json:"file_triggers,omitempty"`
}

// File is one path an RPM owns.
type File struct {
	Path  string `json:"path"`
	Kind  Kind   `json:"kind"`
	Link  string `json:"link,omitempty"` // a symlink's target
	Ghost bool   `json:"ghost,omitempty"`
}

// Kind is a file's type, as far as conflicts go: rpm shares directories
// between packages, never files, links or devices.
type Kind string

const (
	Regular Kind = "file"
	Dir     Kind = "dir"
	Symlink Kind = "link"
	Other   Kind = "other" // devices, fifos, sockets
)

// NEVRA is name-[epoch:]version-release.arch.
func (r *RPM) NEVRA() string { return r.Name + "-" + r.EVR + "." + r.Arch }

// FileName is the name rpmbuild gives a package with this header.
func (r *RPM) FileName() string {
	return r.Name + "-" + r.Version + "-" + r.Release + "." + r.Arch + ".rpm"
}

// Header tags the gate reads (rpmtag.h).
const (
	tagName           = 1000
	tagVersion        = 1001
	tagRelease        = 1002
	tagEpoch          = 1003
	tagFileModes      = 1030
	tagFileLinkTos    = 1036
	tagFileFlags      = 1037
	tagArch           = 1022
	tagProvideName    = 1047
	tagConflictFlag   = 1053
	tagConflictName   = 1054
	tagConflictVer    = 1055
	tagTriggerName    = 1066
	tagObsoleteName   = 1090
	tagProvideFlags   = 1112
	tagProvideVer     = 1113
	tagObsoleteFlag   = 1114
	tagObsoleteVer    = 1115
	tagSupplementName = 5052
	tagSupplementVer  = 5053
	tagSupplementFlag = 5054
	tagEnhanceName    = 5055
	tagEnhanceVer     = 5056
	tagEnhanceFlag    = 5057
	tagFileTrigger    = 5069
	tagTransTrigger   = 5079

	fileFlagGhost = 1 << 6
)

// Read parses an RPM's header; file and digest name it. A header whose
// arrays disagree in length is refused rather than half read: rpmbuild
// never writes one, so it was crafted.
func Read(file, digest string, data []byte) (*RPM, error) {
	// rpmfile verifies the header the way rpm does before the rpm
	// library reads a byte of it: what a job built is not trusted.
	pkg, err := rpmfile.Read("rpm "+file, data)
	if err != nil {
		return nil, err
	}
	h := &pkg.Header
	r := &RPM{File: file, SHA256: digest, Name: h.GetTag(tagName).String(), Version: h.GetTag(tagVersion).String(),
		Release: h.GetTag(tagRelease).String(), Arch: h.GetTag(tagArch).String()}
	r.EVR = r.Version + "-" + r.Release
	if t := h.GetTag(tagEpoch); t != nil {
		if e := t.Int64(); e > 0 {
			r.EVR = strconv.FormatInt(e, 10) + ":" + r.EVR
		}
	}
	if r.Name == "" || r.Version == "" || r.Arch == "" {
		return nil, fmt.Errorf("rpm %s: its header has no name, version or arch", file)
	}
	bad := func(what string) error { return fmt.Errorf("rpm %s: malformed header: %s", file, what) }
	var ok bool
	if r.Provides, ok = deps(h, tagProvideName, tagProvideFlags, tagProvideVer); !ok {
		return nil, bad("Provides arrays differ in length")
	}
	if r.Obsoletes, ok = deps(h, tagObsoleteName, tagObsoleteFlag, tagObsoleteVer); !ok {
		return nil, bad("Obsoletes arrays differ in length")
	}
	if r.Conflicts, ok = deps(h, tagConflictName, tagConflictFlag, tagConflictVer); !ok {
		return nil, bad("Conflicts arrays differ in length")
	}
	if r.Supplements, ok = deps(h, tagSupplementName, tagSupplementFlag, tagSupplementVer); !ok {
		return nil, bad("Supplements arrays differ in length")
	}
	if r.Enhances, ok = deps(h, tagEnhanceName, tagEnhanceFlag, tagEnhanceVer); !ok {
		return nil, bad("Enhances arrays differ in length")
	}
	if r.Files, err = files(h); err != nil {
		return nil, bad(err.Error())
	}
	r.Triggers = h.GetTag(tagTriggerName).StringSlice()
	r.FileTriggers = append(h.GetTag(tagFileTrigger).StringSlice(), h.GetTag(tagTransTrigger).StringSlice()...)
	return r, nil
}

// deps reads one dependency kind; ok is false when its arrays disagree.
func deps(h *rpm.Header, nameTag, flagTag, verTag int) ([]plan.Dep, bool) {
	names := h.GetTag(nameTag).StringSlice()
	flags := h.GetTag(flagTag).Int64Slice()
	vers := h.GetTag(verTag).StringSlice()
	if len(names) == 0 {
		return nil, true
	}
	if len(flags) != len(names) || len(vers) != len(names) {
		return nil, false
	}
	out := make([]plan.Dep, len(names))
	for i, n := range names {
		out[i] = plan.DepFromRPM(n, int(flags[i]), vers[i])
	}
	return out, true
}

// files lists the paths an RPM owns, with their kinds.
func files(h *rpm.Header) ([]File, error) {
	paths, err := rpmfile.FilePaths(h)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, nil
	}
	modes := h.GetTag(tagFileModes).Int64Slice()
	flags := h.GetTag(tagFileFlags).Int64Slice()
	links := h.GetTag(tagFileLinkTos).StringSlice()
	if len(modes) != len(paths) || len(flags) != len(paths) || len(links) != len(paths) {
		return nil, fmt.Errorf("%d files but %d modes, %d flags, %d link targets", len(paths), len(modes), len(flags), len(links))
	}
	out := make([]File, len(paths))
	for i, p := range paths {
		f := File{Path: p, Kind: kindOf(modes[i]), Ghost: flags[i]&fileFlagGhost != 0}
		if f.Kind == Symlink {
			f.Link = links[i]
		}
		out[i] = f
	}
	return out, nil
}

func kindOf(mode int64) Kind {
	switch mode & 0o170000 {
	case 0o040000:
		return Dir
	case 0o120000:
		return Symlink
	case 0o100000:
		return Regular
	}
	return Other
}
