package policy

import (
	"path"
	"strings"
)

// ManagerPath is a path (and what is under it) that configures the package
// manager or the trust store: whoever owns it decides what every machine
// installs, from where, and which signatures it believes.
type ManagerPath struct {
	Pattern string // canonical; a component may be a path.Match pattern
	Why     string
}

// ManagerPaths are refused to every SIG package; the core-built
// <distro>-release-<sig> alone ships its .repo file and key.
var ManagerPaths = []ManagerPath{
	{"/etc/yum.repos.d", "dnf's repository definitions: a .repo file here redefines any repository id, the core's too"},
	{"/etc/distro.repos.d", "in dnf's default reposdir, as /etc/yum.repos.d"},
	{"/etc/yum.conf", "dnf's main configuration (gpgcheck, reposdir, excludes)"},
	{"/etc/yum", "yum's folders (repos.d, vars, pluginconf.d, protected.d), links into dnf's"},
	{"/etc/dnf", "dnf.conf, vars ($releasever and $basearch in every baseurl), plugin configuration, protected.d, modules"},
	{"/usr/share/dnf5", "dnf5's distribution defaults: repos.d, vars.d, libdnf.conf.d"},
	{"/usr/lib/python3*/site-packages/dnf", "dnf's own code"},
	{"/usr/lib/python3*/site-packages/dnf-plugins", "dnf plugins: Python that dnf runs as root in every transaction"},
	{"/usr/lib64/python3*/site-packages/libdnf", "libdnf's bindings, which dnf runs on"},
	{"/usr/lib64/python3*/site-packages/hawkey", "the solver's bindings, which dnf runs on"},
	{"/usr/lib64/python3*/site-packages/rpm", "rpm's bindings, through which dnf checks signatures"},
	{"/usr/lib64/libdnf", "libdnf plugins, loaded by every dnf run"},
	{"/usr/lib/libdnf", "libdnf plugins, loaded by every dnf run"},
	{"/usr/lib64/dnf5", "dnf5 plugins"},
	{"/usr/lib64/libdnf5", "libdnf5 plugins"},
	{"/etc/pki/rpm-gpg", "the keys dnf imports for gpgcheck (gpgkey=file:///etc/pki/rpm-gpg/...): a file here is trusted for the core's repositories"},
	{"/etc/rpm", "rpm's macros on the machine: signature policy (%_pkgverify_level), keyring, database path, transaction plugins"},
	{"/etc/rpmrc", "rpm's machine-wide rpmrc"},
	{"/root/.rpmmacros", "root's rpm macros, read by every rpm and dnf run as root"},
	{"/root/.rpmrc", "root's rpmrc"},
	{"/usr/lib/rpm", "rpm's own macros, rpmrc, platform and Lua configuration"},
	{"/usr/lib64/rpm-plugins", "rpm transaction plugins, loaded into every rpm run"},
	{"/usr/lib/rpm-plugins", "rpm transaction plugins, loaded into every rpm run"},
	{"/usr/lib/sysimage", "the package databases (rpm's, libdnf5's)"},
	{"/var/lib/rpm", "the rpm database"},
	{"/var/lib/dnf", "dnf's history and module state"},
	{"/var/cache/dnf", "dnf's cached repository metadata"},
	{"/var/cache/yum", "dnf's cached repository metadata, under yum's name"},
	{"/etc/pki/ca-trust", "the system trust store (anchors, blocklist): TLS to https repositories"},
	{"/usr/share/pki/ca-trust-source", "the distribution's trust anchors, which update-ca-trust extracts"},
	{"/usr/share/pki/ca-trust-legacy", "the legacy trust bundles"},
	{"/etc/pki/tls/certs/ca-bundle.crt", "the CA bundle, a link into the extracted trust store"},
	{"/etc/pki/tls/certs/ca-bundle.trust.crt", "the CA bundle with trust flags, a link into the extracted trust store"},
	{"/etc/pki/tls/cert.pem", "the CA bundle under OpenSSL's name"},
	{"/etc/crypto-policies", "the crypto policy: which signature algorithms and keys rpm and TLS accept"},
	{"/usr/share/crypto-policies", "the crypto policies' back-ends"},
}

// managerParts are ManagerPaths' patterns split into components, once.
var managerParts = func() [][]string {
	out := make([][]string, len(ManagerPaths))
	for i, mp := range ManagerPaths {
		out[i] = strings.Split(strings.TrimPrefix(mp.Pattern, "/"), "/")
	}
	return out
}()

// managerPath is the entry p (canonical) falls under, or nil.
func managerPath(p string) *ManagerPath {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, pat := range managerParts {
		if len(parts) < len(pat) {
			continue
		}
		match := true
		for j, c := range pat {
			if c != parts[j] {
				if ok, _ := path.Match(c, parts[j]); !ok {
					match = false
					break
				}
			}
		}
		if match {
			return &ManagerPaths[i]
		}
	}
	return nil
}

// managerPathUnder is an entry a file trigger on prefix would fire for:
// one the prefix falls under, or one under the prefix (rpm matches file
// trigger prefixes as strings).
func managerPathUnder(prefix string) *ManagerPath {
	if mp := managerPath(prefix); mp != nil {
		return mp
	}
	for i := range ManagerPaths {
		fixed, _, _ := strings.Cut(ManagerPaths[i].Pattern, "*")
		if strings.HasPrefix(fixed, prefix) {
			return &ManagerPaths[i]
		}
	}
	return nil
}
