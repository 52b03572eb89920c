package config

import (
	"fmt"
	"regexp"
	"strings"
)

// problems collects every validation error as "file:line: field: message",
// so that one run reports them all, one per line.
type problems struct {
	file string
	pos  *positions
	errs []string
}

// at reports a problem with the value at path (a key path such as
// distribution.vendor), on its line.
func (p *problems) at(path, format string, args ...any) {
	p.errs = append(p.errs, fmt.Sprintf("%s:%d: %s: %s", p.file, p.pos.line(path), path, fmt.Sprintf(format, args...)))
}

// check reports problem (a rule's answer) for the value at path, if any.
func (p *problems) check(path, value, problem string) {
	if problem != "" {
		p.at(path, "%q %s", value, problem)
	}
}

// required reports a missing value; it says nothing when there is one.
func (p *problems) required(path, value string) bool {
	if value == "" {
		p.at(path, "is required")
		return false
	}
	return true
}

// name checks a name against pattern and a length.
func (p *problems) name(path, value string, pattern *regexp.Regexp, max int, what string) bool {
	if !p.required(path, value) {
		return false
	}
	if !pattern.MatchString(value) {
		p.at(path, "%q must be %s", value, what)
		return false
	}
	if len(value) > max {
		p.at(path, "%q is longer than %d characters", value, max)
		return false
	}
	return true
}

// validate checks what decoding cannot: required keys, each value against
// the set valid where it ends up, and names that must be distinct where
// they meet (repo ids, folders).
func (c *Config) validate(pos *positions) error {
	p := &problems{file: c.File, pos: pos}
	for _, section := range []string{"distribution", "upstream", "repositories"} {
		if !pos.has(section) {
			p.at(section, "is required (see examples/distro/quarry.yaml)")
		}
	}
	if pos.has("distribution") {
		c.validateDistribution(p)
	}
	if pos.has("upstream") {
		c.validateUpstream(p)
	}
	c.validatePatches(p)
	c.validatePush(p)
	pkgs := c.validateRepositories(p)
	c.validateRest(p, pkgs)
	if len(p.errs) > 0 {
		return &Error{Msg: strings.Join(p.errs, "\n")}
	}
	return nil
}

func (c *Config) validateDistribution(p *problems) {
	d := c.Distribution
	p.name("distribution.name", d.Name, namePattern, maxNameLen, "lower-case letters and digits, starting with a letter (it prefixes repo ids, package and file names)")
	if p.required("distribution.version", d.Version) && (!versionPattern.MatchString(d.Version) || len(d.Version) > maxNameLen) {
		p.at("distribution.version", "%q must be a version, numbers separated by dots like 9 or 9.4: it is the Version of the SIG release packages and part of %%distribution and the push branch", d.Version)
	}
	if p.required("distribution.dist_tag", d.DistTag) {
		if !distTagPattern.MatchString(d.DistTag) || strings.HasSuffix(d.DistTag, ".lock") || len(d.DistTag) > maxNameLen {
			p.at("distribution.dist_tag", "%q must start with a dot, like .el9, then letters, digits and single ., _ or + between them: it ends every package's Release, file name and git tag", d.DistTag)
		}
	}
	if p.required("distribution.vendor", d.Vendor) {
		p.check("distribution.vendor", d.Vendor, macroProblem(d.Vendor))
	}
	if p.required("distribution.packager", d.Packager) {
		p.check("distribution.packager", d.Packager, macroProblem(d.Packager))
	}
	if d.PrettyName != "" {
		p.check("distribution.pretty_name", d.PrettyName, prettyProblem(d.PrettyName))
	}
	if d.VersionMacro != "" && p.name("distribution.version_macro", d.VersionMacro, namePattern, maxNameLen, "a plain macro name: lower-case letters and digits") {
		if contains(reservedMacros, d.VersionMacro) {
			p.at("distribution.version_macro", "%q is a macro rpm or Quarry already defines: name the distribution's own, like %q", d.VersionMacro, d.Name)
		}
	}
	if len(d.Arches) == 0 {
		p.at("distribution.arches", "must list at least one of %s", strings.Join(KnownArches, ", "))
	}
	seen := map[string]int{}
	for i, a := range d.Arches {
		if first, ok := seen[a.Name]; ok {
			p.at(fmt.Sprintf("distribution.arches[%d]", i), "%s is listed twice (first on line %d)", a.Name, first)
		}
		seen[a.Name] = a.Line
	}
}

func (c *Config) validateUpstream(p *problems) {
	u := c.Upstream
	switch {
	case u.DistGit != nil && u.SRPMs != "":
		p.at("upstream", "give either dist_git or srpms, not both")
	case u.DistGit == nil && u.SRPMs == "":
		p.at("upstream", "give dist_git (with lookaside) or srpms")
	case u.DistGit != nil:
		if p.required("upstream.dist_git.url", u.DistGit.URL) {
			p.check("upstream.dist_git.url", u.DistGit.URL, locationProblem(u.DistGit.URL, gitLoc, []string{"name"}, []string{"name"}))
		}
		if p.required("upstream.dist_git.branch", u.DistGit.Branch) {
			// With tags, the branch is also the middle of imports/<branch>/<nvr>.
			p.check("upstream.dist_git.branch", u.DistGit.Branch, gitRefProblem(u.DistGit.Branch))
		}
		if u.Lookaside == nil || u.Lookaside.URL == "" {
			p.at("upstream.lookaside.url", "is required with dist_git")
		} else {
			p.check("upstream.lookaside.url", u.Lookaside.URL, locationProblem(u.Lookaside.URL, fetchLoc,
				[]string{"name", "filename", "hashtype", "hash"}, []string{"hash"}))
		}
	default:
		p.check("upstream.srpms", u.SRPMs, locationProblem(u.SRPMs, fetchLoc, nil, nil))
		if u.Lookaside != nil {
			p.at("upstream.lookaside", "is read only with dist_git: SRPMs carry their sources")
		}
	}
	for i, k := range u.Keys {
		p.check(fmt.Sprintf("upstream.keys[%d]", i), k, locationProblem(k, dirLoc, nil, nil))
	}
	if len(u.Keys) > 0 && u.SRPMs == "" {
		p.at("upstream.keys", "checks SRPM signatures: it goes with upstream.srpms")
	}
}

func (c *Config) validatePatches(p *problems) {
	pa := c.Patches
	if pa.URL != "" {
		p.check("patches.url", pa.URL, locationProblem(pa.URL, gitLoc, []string{"name"}, []string{"name"}))
	} else if pa.Branch != "" || pa.Lookaside != "" {
		p.at("patches.url", "is required when patches.branch or patches.lookaside is given")
	}
	if pa.Branch != "" {
		p.check("patches.branch", pa.Branch, gitRefProblem(pa.Branch))
	}
	if pa.Lookaside != "" {
		p.check("patches.lookaside", pa.Lookaside, locationProblem(pa.Lookaside, fetchLoc, []string{"hash", "hashtype"}, []string{"hash"}))
	}
}

func (c *Config) validatePush(p *problems) {
	if c.Push == nil {
		return
	}
	if p.required("push.url", c.Push.URL) {
		p.check("push.url", c.Push.URL, locationProblem(c.Push.URL, gitLoc, []string{"name"}, []string{"name"}))
	}
	if b := c.Push.Branch; b != "" {
		if pr := placeholderProblem(b, []string{"major"}, nil); pr != "" {
			p.check("push.branch", b, pr)
		} else {
			// The branch and imports/<branch>/<nvr> are refs once {major} is in.
			p.check("push.branch", b, gitRefProblem(c.PushBranch()))
		}
	}
	if c.Push.Lookaside != "" {
		p.check("push.lookaside", c.Push.Lookaside, locationProblem(c.Push.Lookaside, dirLoc, nil, nil))
	}
}
