package config

import (
	"fmt"
	"strings"
)

// packageSet is the core's source packages: by exact name, which is how
// rpm and the config's own references compare them, and lower-cased,
// which is how the file systems and git hosts they reach may compare them.
type packageSet struct {
	exact map[string]int    // name → line
	fold  map[string]string // lower-cased name → name
}

// repoRule says why a repository name is not free. A core repository is
// published as repos/<name>/<arch> and has the dnf repo id
// <distro>-<lower-cased name>; beside them the layout has repos/source
// (<distro>-source), repos/<name>-debug (<distro>-<name>-debug) and
// sig/release (<distro>-sig-release), and the SIGs' <distro>-sig-<sig>-<id>.
func repoRule(name string) string {
	low := strings.ToLower(name)
	switch {
	case low == "source":
		return "is reserved: repos/source and the repo id <distro>-source hold the SRPMs"
	case strings.HasSuffix(low, "-debug"):
		return "ends in -debug, which is reserved: every repository's debug packages are published as <name>-debug"
	case strings.HasPrefix(low, "sig-"):
		return "starts with sig-, which is reserved: the repo ids <distro>-sig-* are the SIGs' and the SIG release packages'"
	}
	return ""
}

func (c *Config) validateRepositories(p *problems) packageSet {
	pkgs := packageSet{exact: map[string]int{}, fold: map[string]string{}}
	if len(c.Repositories) == 0 {
		p.at("repositories", "must list at least one repository")
	}
	type named struct {
		name string
		line int
	}
	seenRepo := map[string]named{} // lower-cased name → as first written
	seenGroup := map[string]int{}
	for i, r := range c.Repositories {
		path := fmt.Sprintf("repositories[%d]", i)
		if p.name(path+".name", r.Name, repoPattern, maxRepoLen, "letters, digits, - and _, starting with a letter") {
			low := strings.ToLower(r.Name)
			first, seen := seenRepo[low]
			switch rule := repoRule(r.Name); {
			case rule != "":
				p.at(path+".name", "%q %s", r.Name, rule)
			case seen && first.name == r.Name:
				p.at(path+".name", "repository %s is listed twice (first on line %d)", r.Name, first.line)
			case seen:
				p.at(path+".name", "repository %s and %s (line %d) are the same to dnf (repo id %s-%s) and to case-insensitive file systems",
					r.Name, first.name, first.line, c.Distribution.Name, low)
			default:
				seenRepo[low] = named{r.Name, p.pos.line(path + ".name")}
			}
		}
		for j, ref := range r.Packages {
			c.checkPackage(p, fmt.Sprintf("%s.packages[%d]", path, j), ref, pkgs)
		}
		for j, g := range r.Groups {
			c.validateGroup(p, fmt.Sprintf("%s.groups[%d]", path, j), r.Name, g, seenGroup)
		}
	}
	return pkgs
}

// checkPackage checks one source package name and that it is listed once.
// Its name reaches file names, the {name} of git and lookaside URLs, and
// git tags; two names that differ only in case would meet there.
func (c *Config) checkPackage(p *problems, path string, ref PackageRef, pkgs packageSet) {
	if !p.name(path, ref.Name, packagePattern, maxPackageLen, "a valid RPM name: letters, digits and . _ + -, starting with a letter or digit") {
		return
	}
	if strings.Contains(ref.Name, "..") {
		p.at(path, "%q must not contain \"..\": the name is part of git tags (imports/<branch>/<nvr>)", ref.Name)
		return
	}
	low := strings.ToLower(ref.Name)
	if first, ok := pkgs.fold[low]; ok {
		if first == ref.Name {
			p.at(path, "package %s is listed twice (first on line %d)", ref.Name, pkgs.exact[first])
		} else {
			p.at(path, "package %s and %s (line %d) differ only in case: their files, git repositories and lookaside folders would collide", ref.Name, first, pkgs.exact[first])
		}
		return
	}
	pkgs.fold[low] = ref.Name
	pkgs.exact[ref.Name] = ref.Line
}

// validateGroup checks one comps group: its id (unique across the core,
// as dnf group install sees them), its text (written into comps XML) and
// its binary package names.
func (c *Config) validateGroup(p *problems, path, repo string, g Group, seen map[string]int) {
	if p.name(path+".id", g.ID, groupPattern, maxRepoLen, "lower-case letters, digits, - and _") {
		if first, ok := seen[g.ID]; ok {
			p.at(path+".id", "group %s is defined twice (first on line %d)", g.ID, first)
		}
		seen[g.ID] = p.pos.line(path + ".id")
	}
	if p.required(path+".name", g.Name) {
		p.check(path+".name", g.Name, lineProblem(g.Name))
	}
	p.check(path+".description", g.Description, textProblem(g.Description))
	if len(g.Packages.All()) == 0 {
		p.at(path+".packages", "group %s of %s lists no packages", g.ID, repo)
	}
	in := map[string]int{}
	for _, list := range []struct {
		key  string
		refs []PackageRef
	}{{"mandatory", g.Packages.Mandatory}, {"default", g.Packages.Default}, {"optional", g.Packages.Optional}} {
		for k, ref := range list.refs {
			// Binary names, compared as dnf compares them: exactly.
			at := fmt.Sprintf("%s.packages.%s[%d]", path, list.key, k)
			if !packagePattern.MatchString(ref.Name) {
				p.at(at, "%q is not a valid RPM name", ref.Name)
			}
			if first, ok := in[ref.Name]; ok {
				p.at(at, "group %s lists %s twice (first on line %d)", g.ID, ref.Name, first)
			}
			in[ref.Name] = ref.Line
		}
	}
}
