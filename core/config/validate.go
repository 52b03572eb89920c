package config

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	namePattern    = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	packagePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
	repoPattern    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	groupPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
)

// validate checks what decoding cannot: required keys, names, duplicates.
// Every problem is reported, each as file:line: message.
func (c *Config) validate() error {
	var errs []string
	add := func(line int, format string, args ...any) {
		if line > 0 {
			errs = append(errs, fmt.Sprintf("%s:%d: %s", c.File, line, fmt.Sprintf(format, args...)))
		} else {
			errs = append(errs, fmt.Sprintf("%s: %s", c.File, fmt.Sprintf(format, args...)))
		}
	}
	d := c.Distribution
	if !namePattern.MatchString(d.Name) {
		add(0, "distribution.name %q must be lower-case letters and digits, starting with a letter", d.Name)
	}
	if d.Version == "" {
		add(0, "distribution.version is required")
	}
	if d.DistTag == "" || !strings.HasPrefix(d.DistTag, ".") {
		add(0, "distribution.dist_tag %q must start with a dot, like .el9", d.DistTag)
	}
	for _, field := range []struct{ name, value string }{{"vendor", d.Vendor}, {"packager", d.Packager}} {
		if field.value == "" {
			add(0, "distribution.%s is required", field.name)
		}
	}
	if d.VersionMacro != "" && !namePattern.MatchString(d.VersionMacro) {
		add(0, "distribution.version_macro %q must be a plain macro name", d.VersionMacro)
	}
	if len(d.Arches) == 0 {
		add(0, "distribution.arches must list at least one of %s", strings.Join(KnownArches, ", "))
	}
	seenArch := map[string]int{}
	for _, a := range d.Arches {
		if first, ok := seenArch[a.Name]; ok {
			add(a.Line, "arch %s is listed twice (first on line %d)", a.Name, first)
		}
		seenArch[a.Name] = a.Line
	}

	u := c.Upstream
	switch {
	case u.DistGit != nil && u.SRPMs != "":
		add(0, "upstream: give either dist_git or srpms, not both")
	case u.DistGit == nil && u.SRPMs == "":
		add(0, "upstream: give dist_git (with lookaside) or srpms")
	case u.DistGit != nil:
		if !strings.Contains(u.DistGit.URL, "{name}") {
			add(0, "upstream.dist_git.url %q must contain {name}", u.DistGit.URL)
		}
		if u.DistGit.Branch == "" {
			add(0, "upstream.dist_git.branch is required")
		}
		if u.Lookaside == nil || u.Lookaside.URL == "" {
			add(0, "upstream.lookaside.url is required with dist_git")
		} else {
			for _, ph := range []string{"{hash}"} {
				if !strings.Contains(u.Lookaside.URL, ph) {
					add(0, "upstream.lookaside.url %q must contain %s", u.Lookaside.URL, ph)
				}
			}
		}
	}
	if c.Patches.URL != "" && !strings.Contains(c.Patches.URL, "{name}") {
		add(0, "patches.url %q must contain {name}", c.Patches.URL)
	}
	if c.Push != nil && !strings.Contains(c.Push.URL, "{name}") {
		add(0, "push.url %q must contain {name}", c.Push.URL)
	}

	if len(c.Repositories) == 0 {
		add(0, "repositories must list at least one repository")
	}
	seenRepo := map[string]bool{}
	seenPkg := map[string]int{}
	seenGroup := map[string]bool{}
	for _, r := range c.Repositories {
		if !repoPattern.MatchString(r.Name) {
			add(0, "repository name %q must be letters, digits, - and _", r.Name)
		}
		if seenRepo[r.Name] {
			add(0, "repository %s is listed twice", r.Name)
		}
		seenRepo[r.Name] = true
		for _, p := range r.Packages {
			if !packagePattern.MatchString(p.Name) {
				add(p.Line, "package name %q is not a valid RPM name", p.Name)
			}
			if first, ok := seenPkg[p.Name]; ok {
				add(p.Line, "package %s is listed twice (first on line %d)", p.Name, first)
			}
			seenPkg[p.Name] = p.Line
		}
		for _, g := range r.Groups {
			where := fmt.Sprintf("repository %s: group %q", r.Name, g.ID)
			if !groupPattern.MatchString(g.ID) {
				add(0, "%s: id must be lower-case letters, digits, - and _", where)
			}
			if seenGroup[g.ID] {
				add(0, "%s is defined twice", where)
			}
			seenGroup[g.ID] = true
			if g.Name == "" {
				add(0, "%s: name is required", where)
			}
			all := g.Packages.All()
			if len(all) == 0 {
				add(0, "%s lists no packages", where)
			}
			inGroup := map[string]int{}
			for _, p := range all {
				if !packagePattern.MatchString(p.Name) {
					add(p.Line, "%s: package name %q is not a valid RPM name", where, p.Name)
				}
				if first, ok := inGroup[p.Name]; ok {
					add(p.Line, "%s lists %s twice (first on line %d)", where, p.Name, first)
				}
				inGroup[p.Name] = p.Line
			}
		}
	}
	for _, p := range c.Patches.None {
		if _, ok := seenPkg[p.Name]; !ok {
			add(p.Line, "patches.none names %s, which no repository lists", p.Name)
		}
	}
	if c.Signing.Key != "" && c.Signing.GPGKey != "" {
		add(0, "signing: give either key or gpg_key, not both")
	}
	if c.Publish.Keep < 0 {
		add(0, "publish.keep must be at least 1")
	}
	if comp := c.Publish.Compression; comp != "" && comp != "gz" && comp != "zst" {
		add(0, "publish.compression %q: use gz or zst", comp)
	}
	if r := c.Release.Package; r != "" {
		if _, ok := seenPkg[r]; !ok {
			add(0, "release.package names %s, which no repository lists", r)
		}
	}
	seenSIG := map[string]int{}
	for _, g := range c.SIGs {
		if !namePattern.MatchString(g.Name) {
			add(g.Line, "sig name %q must be lower-case letters and digits, starting with a letter", g.Name)
		}
		if g.Name == "release" {
			add(g.Line, "sig name release is reserved: sig/release holds the SIG release packages")
		}
		if first, ok := seenSIG[g.Name]; ok {
			add(g.Line, "sig %s is listed twice (first on line %d)", g.Name, first)
		}
		seenSIG[g.Name] = g.Line
		if _, err := g.ConfigJSON(); err != nil {
			add(g.Line, "sig %s: config: %v", g.Name, err)
		}
	}
	if c.Plugins.StartTimeout < 0 || c.Plugins.CallTimeout < 0 {
		add(0, "plugins: timeouts must be positive")
	}
	checkLimits := func(where string, l Limits) {
		if l.Time < 0 || l.Processes < 0 || l.Disk < 0 || l.Log < 0 {
			add(0, "%s: limits must be positive", where)
		}
		if l.Processes > 0 && l.Processes < 16 {
			add(0, "%s.processes %d: a build needs at least 16", where, l.Processes)
		}
		if l.Disk > 0 && l.Disk < 16<<20 {
			add(0, "%s.disk %d: at least 16MiB", where, l.Disk)
		}
		if l.Log > 0 && l.Log < 64<<10 {
			add(0, "%s.log %d: at least 64KiB", where, l.Log)
		}
	}
	checkLimits("build.limits", c.Build.Limits)
	checkLimits("plugins.limits", c.Plugins.Limits)
	if c.Plugins.Limits.Time != 0 || c.Plugins.Limits.Log != 0 {
		add(0, "plugins.limits: a plugin's time is plugins.start_timeout and call_timeout, its log is capped by the host; set processes and disk here")
	}
	if len(errs) > 0 {
		return &Error{Msg: strings.Join(errs, "\n")}
	}
	return nil
}
