// Package compose turns RPMs into dnf-ready repositories: it reads each
// package's header once, keeps its repodata entries cached by the RPM's
// sha256, and writes primary, filelists and other metadata and repomd.xml
// the way createrepo_c does, so that changing one package rewrites only
// what must change.
package compose

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cavaliergopher/rpm"

	"github.com/quarrylinux/quarry/core/rpmfile"

	"github.com/quarrylinux/quarry/core/store"
)

// RPM header tags read for the metadata (rpmtag.h).
const (
	tagName            = 1000
	tagVersion         = 1001
	tagRelease         = 1002
	tagEpoch           = 1003
	tagSummary         = 1004
	tagDescription     = 1005
	tagBuildTime       = 1006
	tagBuildHost       = 1007
	tagSize            = 1009
	tagVendor          = 1011
	tagLicense         = 1014
	tagPackager        = 1015
	tagGroup           = 1016
	tagURL             = 1020
	tagArch            = 1022
	tagFileModes       = 1030
	tagFileFlags       = 1037
	tagSourceRPM       = 1044
	tagArchiveSize     = 1046
	tagChangelogTime   = 1080
	tagChangelogName   = 1081
	tagChangelogText   = 1082
	tagSourcePackage   = 1106
	tagLongSize        = 5009
	sigTagPayloadSize  = 1007
	sigTagLongArchSize = 271
)

// Dependency kinds, in the order primary.xml lists them.
var depKinds = []struct {
	Elem                 string
	Name, Flags, Version int
	Requires             bool
}{
	{"provides", 1047, 1112, 1113, false},
	{"requires", 1049, 1048, 1050, true},
	{"conflicts", 1054, 1053, 1055, false},
	{"obsoletes", 1090, 1114, 1115, false},
	{"suggests", 5049, 5051, 5050, false},
	{"enhances", 5055, 5057, 5056, false},
	{"recommends", 5046, 5048, 5047, false},
	{"supplements", 5052, 5054, 5053, false},
}

// rpmsense bits.
const (
	senseLess       = 1 << 1
	senseGreater    = 1 << 2
	senseEqual      = 1 << 3
	sensePrereq     = 1 << 6
	senseScriptPre  = 1 << 9
	senseScriptPost = 1 << 10
	fileGhost       = 1 << 6
)

// Dep is one dependency entry.
type Dep struct {
	Name, Flags, Epoch, Ver, Rel string
	Pre                          bool
}

// File is one file entry; Type is "", "dir" or "ghost".
type File struct {
	Path, Type string
}

// Changelog is one changelog entry.
type Changelog struct {
	Author string
	Date   int64
	Text   string
}

// Package is what the repodata says about one RPM.
type Package struct {
	PkgID                      string // sha256 of the file
	Name, Arch                 string
	Epoch, Version, Release    string
	Summary, Description       string
	Packager, URL              string
	FileTime, BuildTime        int64
	PackageSize, InstalledSize int64
	ArchiveSize                int64
	Href                       string
	License, Vendor, Group     string
	BuildHost, SourceRPM       string
	HeaderStart, HeaderEnd     int
	Deps                       map[string][]Dep
	Files                      []File
	Changelogs                 []Changelog
}

// NEVRA names the package as dnf does.
func (p *Package) NEVRA() string {
	return fmt.Sprintf("%s-%s:%s-%s.%s", p.Name, p.Epoch, p.Version, p.Release, p.Arch)
}

// ChangelogLimit is how many changelog entries other.xml keeps per package:
// createrepo_c's default.
const ChangelogLimit = 10

// ReadFile reads an RPM from disk; href is its location in the repository.
func ReadFile(path, href string) (*Package, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return Read(path, data, href, st.ModTime().Unix())
}

// Read reads the metadata of an RPM. name is for messages; mtime -1 means
// the build time stands for the file's mtime. The file's
// digests are checked, so a corrupt or truncated RPM is an error naming it.
func Read(name string, data []byte, href string, mtime int64) (*Package, error) {
	p, err := readPackage(name, data, href, mtime)
	if err != nil {
		return nil, err
	}
	if err := p.checkText(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

// readPackage is Read without the check for control characters.
func readPackage(name string, data []byte, href string, mtime int64) (*Package, error) {
	f, err := rpmfile.ReadHeaders(name, data)
	if err != nil {
		return nil, err
	}
	h, sig := f.Header, f.Signature
	start, end := f.HeaderRange()
	p := &Package{
		PkgID:       store.Digest(data),
		Name:        h.String(tagName),
		Arch:        h.String(tagArch),
		Epoch:       strconv.FormatInt(num(h, tagEpoch), 10),
		Version:     h.String(tagVersion),
		Release:     h.String(tagRelease),
		Summary:     h.String(tagSummary),
		Description: h.String(tagDescription),
		Packager:    h.String(tagPackager),
		URL:         h.String(tagURL),
		FileTime:    mtime,
		BuildTime:   num(h, tagBuildTime),
		PackageSize: int64(len(data)),
		Href:        href,
		License:     h.String(tagLicense),
		Vendor:      h.String(tagVendor),
		Group:       h.String(tagGroup),
		BuildHost:   h.String(tagBuildHost),
		SourceRPM:   h.String(tagSourceRPM),
		HeaderStart: start,
		HeaderEnd:   end,
		Deps:        map[string][]Dep{},
	}
	if f.IsSource() {
		p.Arch = "src"
	}
	if mtime < 0 {
		p.FileTime = p.BuildTime
	}
	p.InstalledSize = num(h, tagLongSize)
	if !h.Has(tagLongSize) {
		p.InstalledSize = num(h, tagSize)
	}
	switch {
	case h.Has(tagArchiveSize):
		p.ArchiveSize = num(h, tagArchiveSize)
	case sig.Has(sigTagLongArchSize):
		p.ArchiveSize = num(sig, sigTagLongArchSize)
	default:
		p.ArchiveSize = num(sig, sigTagPayloadSize)
	}
	if p.Name == "" || p.Version == "" || p.Arch == "" {
		return nil, fmt.Errorf("%s: header has no name, version or arch", name)
	}
	fileSet, err := p.readFiles(h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p.readDeps(h, fileSet)
	if f.Legacy() && !f.IsSource() {
		p.provideSelf()
	}
	p.readChangelogs(h)
	return p, nil
}

// ControlCharError is header text with a control character (below 32,
// but tab, newline and carriage return) in it. createrepo_c leaves such a
// package out of the repodata, and so does quarry repo index: XML 1.0
// cannot carry the character, and dropping it would index text the
// package does not say. The core's compose drops the character instead
// (Index.Lenient).
type ControlCharError struct {
	Field, Value string
}

func (e *ControlCharError) Error() string {
	return fmt.Sprintf("%s %q contains a control character; createrepo_c leaves such packages out too", e.Field, e.Value)
}

// checkText finds the first control character in what the repodata would
// say of p, in the fields createrepo_c checks.
func (p *Package) checkText() error {
	check := func(field, v string) error {
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 32 && c != '\t' && c != '\n' && c != '\r' {
				return &ControlCharError{Field: field, Value: v}
			}
		}
		return nil
	}
	for _, f := range [][2]string{{"name", p.Name}, {"arch", p.Arch}, {"epoch", p.Epoch}, {"version", p.Version},
		{"release", p.Release}, {"summary", p.Summary}, {"description", p.Description}, {"url", p.URL},
		{"license", p.License}, {"vendor", p.Vendor}, {"group", p.Group}, {"buildhost", p.BuildHost},
		{"sourcerpm", p.SourceRPM}, {"packager", p.Packager}, {"location", p.Href}} {
		if err := check(f[0], f[1]); err != nil {
			return err
		}
	}
	for _, k := range depKinds {
		for _, d := range p.Deps[k.Elem] {
			for _, v := range []string{d.Name, d.Epoch, d.Ver, d.Rel} {
				if err := check(k.Elem+" entry", v); err != nil {
					return err
				}
			}
		}
	}
	for _, f := range p.Files {
		if err := check("file", f.Path); err != nil {
			return err
		}
	}
	for _, c := range p.Changelogs {
		if err := check("changelog author", c.Author); err != nil {
			return err
		}
		if err := check("changelog text", c.Text); err != nil {
			return err
		}
	}
	return nil
}

func num(h rpmfile.Tags, tag int) int64 {
	if v := h.Ints(tag); len(v) > 0 {
		return v[0]
	}
	return 0
}

func (p *Package) readFiles(h rpmfile.Tags) (map[string]bool, error) {
	paths, err := h.FilePaths()
	if err != nil {
		return nil, err
	}
	modes, flags := h.Ints(tagFileModes), h.Ints(tagFileFlags)
	set := make(map[string]bool, len(paths))
	for i, path := range paths {
		if i >= len(modes) || i >= len(flags) {
			break
		}
		f := File{Path: path}
		switch {
		case modes[i]&0o170000 == 0o040000:
			f.Type = "dir"
		case flags[i]&fileGhost != 0:
			f.Type = "ghost"
		}
		set[f.Path] = true
		p.Files = append(p.Files, f)
	}
	return set, nil
}

// readDeps follows createrepo_c: requires drop rpmlib() entries, the
// package's own primary files, anything it provides itself and exact
// duplicates, and keep only the highest libc.so.6 version.
func (p *Package) readDeps(h rpmfile.Tags, files map[string]bool) {
	provided := map[string]bool{}
	type seenReq struct {
		flags, ver string
		pre        bool
	}
	seen := map[string]seenReq{}
	for _, k := range depKinds {
		names, flags, vers := h.Strings(k.Name), h.Ints(k.Flags), h.Strings(k.Version)
		var libc *Dep
		var list []Dep
		for i, name := range names {
			if i >= len(flags) || i >= len(vers) {
				break
			}
			fl, ver := flags[i], vers[i]
			fs := flagString(fl)
			nfv := name + "\x00" + fs + "\x00" + ver
			pre := false
			if k.Requires {
				if strings.HasPrefix(name, "rpmlib(") {
					continue
				}
				if strings.HasPrefix(name, "/") && files[name] && isPrimary(name) {
					continue
				}
				if provided[nfv] {
					continue
				}
				pre = fl&(sensePrereq|senseScriptPre|senseScriptPost) != 0
				if s, ok := seen[name]; ok && s.flags == fs && s.ver == ver && s.pre == pre {
					continue
				}
			}
			d := Dep{Name: name, Flags: fs, Pre: pre}
			if ver != "" {
				e, v, r, ok := splitEVR(ver)
				if !ok {
					continue // createrepo_c skips a dependency with a bad epoch
				}
				d.Epoch, d.Ver, d.Rel = e, v, r
			}
			switch {
			case k.Elem == "provides":
				provided[nfv] = true
			case k.Requires && strings.HasPrefix(name, "libc.so.6"):
				if libc == nil || compareLibc(libc.Name, name) == 2 {
					dd := d
					libc = &dd
				}
				continue
			case k.Requires:
				seen[name] = seenReq{fs, ver, pre}
			}
			list = append(list, d)
		}
		if libc != nil {
			list = append(list, *libc)
		}
		if len(list) > 0 {
			p.Deps[k.Elem] = list
		}
	}
}

// provideSelf adds "name = epoch:version-release" to the provides of an
// rpm 3 package, which rpm 3 did not write and rpm (to 4.18, which
// createrepo_c reads through) adds as it reads the header.
func (p *Package) provideSelf() {
	for _, d := range p.Deps["provides"] {
		if d.Name == p.Name && d.Flags == "EQ" && d.Epoch == p.Epoch && d.Ver == p.Version && d.Rel == p.Release {
			return
		}
	}
	p.Deps["provides"] = append(p.Deps["provides"], Dep{Name: p.Name, Flags: "EQ", Epoch: p.Epoch, Ver: p.Version, Rel: p.Release})
}

// compareLibc orders libc.so.6 requirements by the version in their first
// parentheses: 0 same, 1 the first is higher, 2 the second is.
func compareLibc(a, b string) int {
	va, oka := libcVersion(a)
	vb, okb := libcVersion(b)
	switch {
	case !oka && !okb:
		return 0
	case !oka:
		return 2
	case !okb:
		return 1
	}
	switch c := rpm.CompareVersions(va, vb); {
	case c < 0:
		return 2
	case c > 0:
		return 1
	}
	return 0
}

func libcVersion(dep string) (string, bool) {
	open := strings.IndexByte(dep, '(')
	if open < 0 {
		return "", false
	}
	rest := dep[open+1:]
	closing := strings.IndexByte(rest, ')')
	if closing <= 0 {
		return "", false
	}
	inner := rest[:closing]
	i := strings.IndexFunc(inner, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 {
		return "", false
	}
	return inner[i:], true
}

func flagString(f int64) string {
	switch f & (senseLess | senseGreater | senseEqual) {
	case senseLess:
		return "LT"
	case senseGreater:
		return "GT"
	case senseEqual:
		return "EQ"
	case senseLess | senseEqual:
		return "LE"
	case senseGreater | senseEqual:
		return "GE"
	}
	return ""
}

// splitEVR splits [epoch:]version[-release]; the epoch defaults to 0.
func splitEVR(s string) (epoch, ver, rel string, ok bool) {
	epoch = "0"
	if i := strings.IndexByte(s, ':'); i >= 0 {
		epoch, s = s[:i], s[i+1:]
		if epoch == "" {
			epoch = "0"
		} else if _, err := strconv.ParseUint(epoch, 10, 64); err != nil {
			return "", "", "", false
		}
	}
	ver = s
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		ver, rel = s[:i], s[i+1:]
	}
	return epoch, ver, rel, true
}

// isPrimary says whether a file is listed in primary.xml as well as in
// filelists.xml: what yum and dnf expect without loading filelists.
func isPrimary(path string) bool {
	return strings.HasPrefix(path, "/etc/") || path == "/usr/lib/sendmail" || strings.Contains(path, "bin/")
}

// readChangelogs keeps the newest ChangelogLimit entries, oldest first, and
// makes equal dates distinct the way createrepo_c does.
func (p *Package) readChangelogs(h rpmfile.Tags) {
	times, names, texts := h.Ints(tagChangelogTime), h.Strings(tagChangelogName), h.Strings(tagChangelogText)
	n := min(len(times), len(names), len(texts), ChangelogLimit)
	var last int64
	var out []Changelog // newest first while reading
	for i := 0; i < n; i++ {
		t := times[i]
		out = append(out, Changelog{Author: strings.TrimRight(names[i], " "), Date: t, Text: texts[i]})
		if last == t {
			// Bump the earlier-read entries with the same date by one, two...
			tt := t
			for j := len(out) - 2; j >= 0 && out[j].Date == tt; j-- {
				out[j].Date++
				tt++
			}
		} else {
			last = t
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	p.Changelogs = out
}
