// Package srpm makes the packages' SRPMs and reads their specs, in the
// sandbox (a spec's macros are code), into the plain facts the build graph
// plans with (plan.Source): an SRPM per debranded tree, the binaries the
// spec produces per target arch, the BuildRequires. The Loader does it
// for every imported package of a distribution.
package srpm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/quarrylinux/quarry/core/arch"
	"github.com/quarrylinux/quarry/core/plan"
	"github.com/quarrylinux/quarry/core/rpmfile"
	"github.com/quarrylinux/quarry/core/safetext"
	"github.com/quarrylinux/quarry/core/sandbox"
	"github.com/quarrylinux/quarry/core/store"
	"github.com/quarrylinux/quarry/core/toolchain"
)

// Sources makes SRPMs and reads specs, in the sandbox, caching both by the
// debranded tree and the macros so that each is made once. A spec is
// untrusted: rpm evaluates its macros (%(...), %{lua:...}) while reading
// it, so it is only ever read inside a sandbox.
type Sources struct {
	Store *store.Store
	// Limits bound each sandbox (a spec's macros may loop forever).
	Limits sandbox.Limits
	// Env is the host arch's Env: SRPMs are made with it, and specs are
	// read with its macros for every target.
	Env toolchain.Env
	// Root is the unpacked buildroot image Env.Buildroot names: SRPMs are
	// made, and specs read, by its rpm as its build user, so that nothing
	// of the host's rpm goes into an SRPM (or a key). "" in the cross
	// mode: the host's rpm.
	Root string
	// Targets are the arches binaries are listed for.
	Targets []string
}

// v2: obsoletes and conflicts; v3: header name; v4: noarch binaries read
// as the build host's arch reads them
const sourceCacheVersion = "quarry-source-v4"

// Get returns the Source of a package's debranded tree. extra are files
// the core adds to its SOURCES (the release package's .repo file and key).
func (s *Sources) Get(ctx context.Context, name, tree string, extra map[string][]byte) (*plan.Source, error) {
	parts := append([]string{sourceCacheVersion, name, tree, s.Env.Macros, s.Env.RPMRC, s.Env.Toolchain, s.Env.Buildroot}, s.Targets...)
	for _, f := range slices.Sorted(maps.Keys(extra)) {
		parts = append(parts, f, store.Digest(extra[f]))
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	key := hex.EncodeToString(sum[:])
	if d, ok := s.Store.Alias("source", key); ok {
		if data, err := s.Store.Get(d); err == nil {
			var src plan.Source
			if json.Unmarshal(data, &src) == nil && s.Store.Has(src.SRPM) {
				return &src, nil
			}
		}
	}
	src, err := s.make(ctx, name, tree, extra)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(src)
	if err != nil {
		return nil, err
	}
	d, err := s.Store.Put(data)
	if err != nil {
		return nil, err
	}
	return src, s.Store.PutAlias("source", key, d)
}

func (s *Sources) make(ctx context.Context, name, treeDigest string, extra map[string][]byte) (*plan.Source, error) {
	tree, err := s.Store.GetTree(treeDigest)
	if err != nil {
		return nil, fmt.Errorf("debranded tree: %w (run quarry import)", err)
	}
	box, err := sandbox.Open(s.Limits)
	if err != nil {
		return nil, err
	}
	defer box.Close()
	if s.Env.Buildroot != "" {
		if s.Root == "" {
			return nil, fmt.Errorf("buildroot %s is not unpacked on this machine", s.Env.Buildroot)
		}
		if err := box.UseRoot(s.Root); err != nil {
			return nil, err
		}
		box.Owner = sandbox.BuildUser
		box.RunAs(sandbox.BuildUser)
	}
	work := box.Dir()
	if err := toolchain.WriteEnv(work, s.Env); err != nil {
		return nil, err
	}
	if err := tree.WriteTo(filepath.Join(work, "top")); err != nil {
		return nil, err
	}
	specPath, err := tree.Spec()
	if err != nil {
		return nil, fmt.Errorf("the debranded tree: %w", err)
	}
	spec := sandbox.Dir + "/top/" + specPath
	specText := string(tree[specPath].Data)
	for _, f := range slices.Sorted(maps.Keys(extra)) {
		if !strings.Contains(specText, f) {
			return nil, fmt.Errorf("the core adds %s to this package's sources, but its spec does not use it: add a SourceN: %s line and install it", f, f)
		}
		if err := os.WriteFile(filepath.Join(work, "top", "SOURCES", f), extra[f], 0o644); err != nil {
			return nil, err
		}
	}
	// One sandbox: the SRPM, then the binary packages per target.
	script := "set -e\n" + sandbox.Line(append(append([]string{"rpmbuild"}, s.Env.RPMArgs()...), "--nodeps", "-bs", spec)...) + "\n"
	for _, t := range s.Targets {
		e := s.Env
		e.Arch = t
		if t == arch.Noarch {
			// What a noarch job builds, on the arch it builds on.
			e.Build = s.Env.Arch
		}
		query := append(append([]string{"rpmspec"}, e.RPMArgs()...), "-q", "--qf", binaryQueryFormat, spec)
		script += fmt.Sprintf("%s > %s/query.%s\n", sandbox.Line(query...), sandbox.Dir, t)
	}
	var log bytes.Buffer
	if err := box.Run(ctx, &log, "sh", "-c", script); err != nil {
		if sandbox.IsLimit(err) {
			return nil, fmt.Errorf("%s: make SRPM: %v\n%s", specPath, err, safetext.Tail(log.String(), 20))
		}
		if m := missingSource.FindStringSubmatch(log.String()); m != nil && tree["SOURCES/"+m[1]] == nil {
			return nil, fmt.Errorf("make SRPM: the spec needs SOURCES/%s, which is not among the package's sources "+
				"(a NoSource:/NoPatch: file, which upstream's .nosrc.rpm does not ship: a patch repository can add it, and drop the NoSource: line "+
				"with a spec_change so that the SRPM carries it): rpmbuild -bs says %s",
				safetext.Terminal(m[1]), safetext.Terminal(strings.TrimSpace(m[0])))
		}
		return nil, fmt.Errorf("make SRPM: %v\n%s", err, safetext.Tail(log.String(), 20))
	}
	// What the sandbox wrote is read back only as regular files inside it:
	// <nvr>.src.rpm, or <nvr>.nosrc.rpm when the spec has NoSource: or
	// NoPatch: (it does not carry those files).
	srpms, err := box.Find("top/SRPMS", 1, "src.rpm")
	if err != nil {
		return nil, fmt.Errorf("make SRPM: %w", err)
	}
	if len(srpms) != 1 {
		return nil, fmt.Errorf("rpmbuild -bs wrote %d SRPMs", len(srpms))
	}
	data, err := box.ReadFile(srpms[0], box.Limits().Disk)
	if err != nil {
		return nil, fmt.Errorf("make SRPM: %w", err)
	}
	src, err := readSRPM(path.Base(srpms[0]), data)
	if err != nil {
		return nil, err
	}
	src.Name = name
	if src.SRPM, err = s.Store.Put(data); err != nil {
		return nil, err
	}
	src.Binaries = map[string][]plan.Binary{}
	for _, t := range s.Targets {
		out, err := box.ReadFile("query."+t, maxQuery)
		if err != nil {
			return nil, fmt.Errorf("rpmspec --target %s: %w", t, err)
		}
		if src.Binaries[t], err = parseBinaries(string(out)); err != nil {
			return nil, fmt.Errorf("rpmspec --target %s: %w", t, err)
		}
	}
	return src, nil
}

// missingSource is rpmbuild's complaint about a source that is not in
// SOURCES: rpm wants every source, NoSource ones too, to make an SRPM.
var missingSource = regexp.MustCompile(`Bad file: ` + regexp.QuoteMeta(sandbox.Dir+"/top/SOURCES/") + `([^/:\n]+): No such file or directory`)

// RPM header tags of an SRPM that the rpm library has no getter for.
const (
	tagExcludeArch   = 1059
	tagExclusiveArch = 1061
	tagBuildArchs    = 1089
)

// maxQuery bounds what a spec query may print: thousands of subpackages
// with all their dependencies fit.
const maxQuery = 64 << 20

func readSRPM(file string, data []byte) (*plan.Source, error) {
	f, err := rpmfile.Read(file, data)
	if err != nil {
		return nil, err
	}
	src := &plan.Source{File: file, Header: f.Name()}
	for _, d := range f.Requires() {
		if strings.HasPrefix(d.Name(), "rpmlib(") {
			continue
		}
		src.BuildRequires = append(src.BuildRequires, plan.DepFromRPM(d.Name(), d.Flags(), evrOf(d.Epoch(), d.Version(), d.Release())))
	}
	if t := f.Header.GetTag(tagExclusiveArch); t != nil {
		src.ExclusiveArch = t.StringSlice()
	}
	if t := f.Header.GetTag(tagExcludeArch); t != nil {
		src.ExcludeArch = t.StringSlice()
	}
	if t := f.Header.GetTag(tagBuildArchs); t != nil {
		src.BuildArch = t.StringSlice()
	}
	return src, nil
}

// binaryQueryFormat lists each binary package and its dependencies as tab
// separated lines: "pkg" name arch epoch version release, then "prov" and
// "req" lines of name flags version.
const binaryQueryFormat = `pkg\t%{name}\t%{arch}\t%|epoch?{%{epoch}}:{}|\t%{version}\t%{release}\n` +
	`[prov\t%{provides}\t%{provideflags}\t%{provideversion}\n]` +
	`[req\t%{requires}\t%{requireflags}\t%{requireversion}\n]` +
	`[obs\t%{obsoletes}\t%{obsoleteflags}\t%{obsoleteversion}\n]` +
	`[conf\t%{conflicts}\t%{conflictflags}\t%{conflictversion}\n]`

func parseBinaries(out string) ([]plan.Binary, error) {
	var bins []plan.Binary
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		switch {
		case f[0] == "pkg" && len(f) == 6:
			bins = append(bins, plan.Binary{Name: f[1], Arch: f[2], EVR: evrString(f[3], f[4], f[5])})
		case (f[0] == "prov" || f[0] == "req" || f[0] == "obs" || f[0] == "conf") && len(f) == 4 && len(bins) > 0:
			var flags int
			fmt.Sscan(f[2], &flags)
			d := plan.DepFromRPM(f[1], flags, f[3])
			b := &bins[len(bins)-1]
			switch f[0] {
			case "prov":
				b.Provides = append(b.Provides, d)
			case "obs":
				b.Obsoletes = append(b.Obsoletes, d)
			case "conf":
				b.Conflicts = append(b.Conflicts, d)
			default:
				if !strings.HasPrefix(d.Name, "rpmlib(") {
					b.Requires = append(b.Requires, d)
				}
			}
		default:
			return nil, fmt.Errorf("unexpected line %q", line)
		}
	}
	return bins, nil
}

func evrString(epoch, version, release string) string {
	s := version + "-" + release
	if epoch != "" && epoch != "0" {
		s = epoch + ":" + s
	}
	return s
}

func evrOf(epoch int, version, release string) string {
	if version == "" {
		return ""
	}
	s := version
	if release != "" {
		s += "-" + release
	}
	if epoch > 0 {
		s = fmt.Sprintf("%d:%s", epoch, s)
	}
	return s
}
