package policy

import (
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/quarrylinux/quarry/sdk"
)

// RuleGit: the host fetches a SIG's git sources itself, with its own
// network and file system, so it fetches only what the core's config lets
// that SIG name (sigs[].git_sources), over https or from a folder the
// operator listed, at a pinned commit.
const RuleGit = "git-sources"

var commitPattern = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// GitAllowed says whether url is one of the allowed sources: the same
// URL, or under a prefix that ends in "/".
func GitAllowed(u string, allowed []string) bool {
	for _, a := range allowed {
		if u == a || strings.HasSuffix(a, "/") && strings.HasPrefix(u, a) {
			return true
		}
	}
	return false
}

// gitSource checks one package's git source.
func (g *Gate) gitSource(item string, src *sdk.GitSource, add func(item, rule, format string, args ...any)) {
	u, err := url.Parse(src.URL)
	switch {
	// No percent-encoding: git's transports decode the path, so the
	// string compared with the allowed prefixes must be the path used.
	case err != nil || (u.Scheme != "https" && u.Scheme != "file") || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		strings.Contains(src.URL, "..") || strings.ContainsAny(src.URL, "%\\\x00\n") || path.Clean(u.Path) != strings.TrimSuffix(u.Path, "/") && u.Path != "":
		add(item, RuleGit, "git source %q: only https:// (or a file:// folder the config lists), without credentials, query, percent-encoding or ..", src.URL)
	case !GitAllowed(src.URL, g.GitSources):
		listed := "none are listed"
		if len(g.GitSources) > 0 {
			listed = "it lists " + strings.Join(g.GitSources, ", ")
		}
		add(item, RuleGit, "git source %s is not in sigs[%s].git_sources in quarry.yaml (%s)", src.URL, g.SIG, listed)
	}
	if !commitPattern.MatchString(src.Commit) {
		add(item, RuleGit, "git source %s: commit %q must be a full commit id (40 or 64 hex digits), not a branch, tag or HEAD", src.URL, src.Commit)
	}
	if d := strings.Trim(src.Dir, "/"); d != "" {
		if bad := badPath(d); bad != "" {
			add(item, RuleGit, "git source %s: folder %q: %s", src.URL, src.Dir, bad)
		}
	}
}
