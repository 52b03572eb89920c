package policy

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/quarrylinux/quarry/sdk"
)

// RuleInstaller: installers and their artifacts are named as files in
// the SIG's images/<sig>/ folder, and nowhere else.
const RuleInstaller = "installer-names"

var artifactPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// Installers checks the installers a SIG returns: each name is a plain
// id (it becomes images/<sig>/<name>.ks), once, of a known kind, within
// the size limit.
func (g *Gate) Installers(ins []sdk.Installer) Violations {
	var vs Violations
	seen := map[string]bool{}
	for _, in := range ins {
		item := "installer " + in.Name
		if !idPattern.MatchString(in.Name) {
			vs = append(vs, Violation{g.SIG, item, RuleInstaller, fmt.Sprintf("name %q must be lower-case letters, digits, - and _", in.Name)})
		}
		if seen[in.Name] {
			vs = append(vs, Violation{g.SIG, item, RuleDuplicate, "returned twice"})
		}
		seen[in.Name] = true
		if in.Kind != sdk.Kickstart && in.Kind != sdk.Image {
			vs = append(vs, Violation{g.SIG, item, RuleInstaller, fmt.Sprintf("unknown kind %q", in.Kind)})
		}
		if g.Limits.PackageBytes > 0 && int64(len(in.Content)) > g.Limits.PackageBytes {
			vs = append(vs, Violation{g.SIG, item, RuleSize, fmt.Sprintf("%d bytes, over the limit of %d", len(in.Content), g.Limits.PackageBytes)})
		}
	}
	return vs
}

// Artifact checks the file name of a built installer artifact, which the
// host writes as images/<sig>/<name>.
func (g *Gate) Artifact(installer, name string) error {
	if !artifactPattern.MatchString(name) || strings.Contains(name, "..") {
		return Violation{g.SIG, "installer " + installer, RuleInstaller, fmt.Sprintf("artifact name %q must be a plain file name (letters, digits, . _ + -)", name)}
	}
	return nil
}
