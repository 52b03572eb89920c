package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
)

// The valid sets of quarry.yaml's values, each decided by where the value
// ends up: a file name, a line of rpm's macro file or a spec, an rpm
// header, a dnf repo id or .repo line, a git ref, a URL.

var (
	// namePattern: the distribution's and the SIGs' names, and the version
	// macro. They prefix repo ids (<distro>-sig-<sig>-<id>), package names
	// (<distro>-release-<sig>) and file names, so no '-' of their own.
	namePattern = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	// packagePattern: rpm's name characters that are also safe in a path,
	// a URL and a git tag (imports/<branch>/<nvr>).
	packagePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
	// repoPattern: characters dnf accepts in a repo id, and a folder name.
	repoPattern  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	groupPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	// versionPattern: numbers and dots. The version is the SIG release
	// packages' Version:, part of %distribution and of the push branch.
	versionPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)
	// distTagPattern: what rpm allows in a Release, without '~' and '^'
	// (which change how versions sort) and without '..' or a final '.'
	// (the NVR is a git tag).
	distTagPattern = regexp.MustCompile(`^\.[A-Za-z0-9]+([._+][A-Za-z0-9]+)*$`)
	// gpgKeyPattern: a long key id or a fingerprint. A short id collides
	// easily, and a user id is a substring match: either could pick
	// another key from the keyring.
	gpgKeyPattern = regexp.MustCompile(`^(0x)?([0-9A-Fa-f]{16}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})!?$`)
	placeholder   = regexp.MustCompile(`\{[^{}]*\}`)
)

const (
	maxNameLen    = 32  // distribution, SIG and macro names
	maxRepoLen    = 64  // a repo id is <distro>-<repo>-debug
	maxPackageLen = 200 // a file name is <name>-<version>-<release>.<arch>.rpm, at most 255 bytes
	maxTextLen    = 200
)

// lineProblem says what keeps s from being one line of text in a
// line-based file (rpm macros, a spec, a .repo file, an rpm header
// string): line breaks, control and invisible format characters, and
// surrounding spaces (which rpm and dnf drop).
func lineProblem(s string) string {
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			return "must be one line: it is written into line-based files (rpm macros, specs, .repo files)"
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("must not contain the control character %U", r)
		}
	}
	if strings.TrimSpace(s) != s {
		return "must not start or end with spaces"
	}
	if len(s) > maxTextLen {
		return fmt.Sprintf("is longer than %d bytes", maxTextLen)
	}
	return ""
}

// macroProblem: a value written as the body of an rpm macro. '%' would be
// expanded (%(cmd) runs a command in every build); a '\' escapes or, at
// the end, continues the line into the next macro. Rejected rather than
// escaped: the value would otherwise differ from what the headers show.
func macroProblem(s string) string {
	if p := lineProblem(s); p != "" {
		return p
	}
	if strings.Contains(s, "%") {
		return `must not contain "%": rpm expands it as a macro`
	}
	if strings.Contains(s, `\`) {
		return `must not contain "\": rpm reads it as an escape or a line continuation`
	}
	return ""
}

// prettyProblem: the pretty name is a macro (%distribution), a .repo
// name= (dnf expands $variables), a spec Summary and the key's user id
// ("<pretty> <email>").
func prettyProblem(s string) string {
	if p := macroProblem(s); p != "" {
		return p
	}
	if i := strings.IndexAny(s, "$<>"); i >= 0 {
		return fmt.Sprintf("must not contain %q: dnf expands $variables in .repo files, and the signing key's user id is \"<pretty_name> <email>\"", s[i:i+1])
	}
	return ""
}

// textProblem: text read by people only (comps descriptions, XML), where
// line breaks and tabs may stay but other control characters are not
// valid XML.
func textProblem(s string) string {
	for _, r := range s {
		if (unicode.IsControl(r) && r != '\n' && r != '\t') || unicode.Is(unicode.Cf, r) {
			return fmt.Sprintf("must not contain the control character %U", r)
		}
	}
	return ""
}

// gitRefProblem applies git check-ref-format's rules to a branch (or the
// part of a tag) Quarry builds from config.
func gitRefProblem(ref string) string {
	switch {
	case ref == "" || ref == "@":
		return "is not a git branch name"
	case strings.HasPrefix(ref, "-"):
		return `must not start with "-"`
	case strings.HasPrefix(ref, "/") || strings.HasSuffix(ref, "/") || strings.Contains(ref, "//"):
		return `must not start or end with "/" or contain "//"`
	case strings.Contains(ref, ".."):
		return `must not contain ".."`
	case strings.Contains(ref, "@{"):
		return `must not contain "@{"`
	case strings.HasSuffix(ref, "."):
		return `must not end with "."`
	}
	for _, r := range ref {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return fmt.Sprintf("must not contain %q: git refuses it in a ref", string(r))
		}
	}
	for _, part := range strings.Split(ref, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return `no part may start with "." or end with ".lock"`
		}
	}
	return ""
}

// locKind is what reads a location, which decides its schemes.
type locKind int

const (
	gitLoc   locKind = iota // go-git: a path, file, http(s), ssh, git, or user@host:path
	fetchLoc                // Quarry's fetcher: a path, file, http(s)
	dirLoc                  // a local file or folder
	dnfLoc                  // dnf on users' machines: an absolute URL
)

var schemes = map[locKind][]string{
	gitLoc:   {"file", "http", "https", "ssh", "git"},
	fetchLoc: {"file", "http", "https"},
	dnfLoc:   {"file", "http", "https", "ftp"},
}

// locationProblem checks a location or URL template: one line, the right
// placeholders, and a path or URL its reader understands.
func locationProblem(s string, kind locKind, allowed, required []string) string {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return fmt.Sprintf("must not contain the control character %U", r)
		}
	}
	if p := placeholderProblem(s, allowed, required); p != "" {
		return p
	}
	sample := placeholder.ReplaceAllString(s, "x")
	scheme, _, hasScheme := strings.Cut(sample, "://")
	switch {
	case kind == dirLoc && hasScheme:
		return "must be a local path, not a URL"
	case kind == dnfLoc && !hasScheme:
		return "must be an absolute URL (https://..., file:///...): dnf reads it on other machines"
	case !hasScheme && kind == fetchLoc && strings.Contains(sample, "@"):
		return `a path with "@" is read as a remote location: write it as file://...`
	case !hasScheme:
		return ""
	}
	if strings.ContainsAny(sample, " \t") {
		return "must not contain spaces: it is a URL"
	}
	if !contains(schemes[kind], scheme) {
		return fmt.Sprintf("has the scheme %s:// (use %s://)", scheme, strings.Join(schemes[kind], "://, "))
	}
	u, err := url.Parse(sample)
	if err != nil {
		return fmt.Sprintf("is not a URL: %v", err)
	}
	if scheme != "file" && u.Host == "" {
		return "has no host"
	}
	return ""
}

// placeholderProblem: a template's placeholders are exactly the
// documented ones (a misspelt {nmae} would be used literally) and the
// required ones are there.
func placeholderProblem(s string, allowed, required []string) string {
	for _, tok := range placeholder.FindAllString(s, -1) {
		if !contains(allowed, strings.Trim(tok, "{}")) {
			if len(allowed) == 0 {
				return fmt.Sprintf("has the placeholder %s, but takes none", tok)
			}
			return fmt.Sprintf("has the unknown placeholder %s (known: {%s})", tok, strings.Join(allowed, "}, {"))
		}
	}
	if strings.ContainsAny(placeholder.ReplaceAllString(s, "x"), "{}") {
		return `has an unmatched "{" or "}"`
	}
	for _, r := range required {
		if !strings.Contains(s, "{"+r+"}") {
			return fmt.Sprintf("must contain {%s}", r)
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// reservedMacros are macro names a version_macro must not redefine: the
// macros Quarry writes itself (core/toolchain DistMacros; a test keeps the
// lists together), rpm's built-ins and spec keywords, and the macros
// rpm's own files define that match namePattern.
var reservedMacros = strings.Fields(`
	dist vendor packager distribution rhel
	define global undefine dump echo warn error expand lua basename dirname exists
	shrink suffix quote uncompress url2path u2p getncpus getconfdir verbose trace
	dnl load macrobody rpmversion upper lower len sub rep shescape expr gsub span
	getenv with without bcond defined undefined nil
	if ifarch ifnarch ifos ifnos else elif elifarch elifos endif include
	prep build install check clean files changelog description package pre post
	preun postun pretrans posttrans preuntrans postuntrans triggerin triggerun
	triggerpostun triggerprein verifyscript filetriggerin filetriggerun
	filetriggerpostun transfiletriggerin transfiletriggerun transfiletriggerpostun
	conf patchlist sourcelist setup autosetup autopatch patch patches sources
	configure makeinstall buildroot optflags
	name version release epoch summary license url arch os buildarch
	alpha arm arm32 arm64 ix86 loongarch64 mips mips32 mips64 mipseb mipsel
	power64 riscv riscv32 riscv64 riscv128 sparc`)

// gitSourceProblem says why a SIG git source is not one the host may
// fetch: https:// without credentials, query or "..", or file:// (a
// folder of this machine the operator vouches for); never ssh (the
// host's keys) or a bare path.
func gitSourceProblem(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Sprintf("is not a URL: %v", err)
	case u.Scheme != "https" && u.Scheme != "file":
		return "must be an https:// URL (or file:// for a folder on this machine): the host fetches it, with nothing of its own credentials"
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Contains(s, "..") || strings.Contains(s, "%"):
		return "must not carry credentials, a query, a fragment, percent-encoding or .."
	case u.Scheme == "https" && u.Host == "":
		return "needs a host"
	case strings.ContainsAny(s, " \t\n\\"):
		return "must not contain spaces or backslashes"
	}
	return ""
}
