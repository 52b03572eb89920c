package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/quarrylinux/quarry/core/layout"
)

// validateRest checks what refers to the core's packages, and the
// signing, publishing, SIG and plugin settings.
func (c *Config) validateRest(p *problems, pkgs packageSet) {
	for i, ref := range c.Patches.None {
		if _, ok := pkgs.exact[ref.Name]; !ok {
			p.at(fmt.Sprintf("patches.none[%d]", i), "names %s, which no repository lists", ref.Name)
		}
	}
	if r := c.Release.Package; r != "" {
		if _, ok := pkgs.exact[r]; !ok {
			p.at("release.package", "names %s, which no repository lists", r)
		}
	}

	s := c.Signing
	if s.Key != "" && s.GPGKey != "" {
		p.at("signing", "give either key or gpg_key, not both")
	}
	if s.Key != "" {
		p.check("signing.key", s.Key, locationProblem(s.Key, dirLoc, nil, nil))
	}
	if s.PassphraseFile != "" {
		p.check("signing.passphrase_file", s.PassphraseFile, locationProblem(s.PassphraseFile, dirLoc, nil, nil))
	}
	if s.GPGKey != "" && !gpgKeyPattern.MatchString(s.GPGKey) {
		p.at("signing.gpg_key", "%q must be a long key id (16 hex digits) or a fingerprint (40): a short id or a user id can match another key in the keyring", s.GPGKey)
	}

	pub := c.Publish
	if pub.URL != "" {
		// It is every baseurl of the .repo files: one line, dnf's schemes.
		p.check("publish.url", pub.URL, locationProblem(pub.URL, dnfLoc, nil, nil))
	}
	if pub.Keep < 0 || (pub.Keep == 0 && p.pos.has("publish.keep")) {
		p.at("publish.keep", "%d: must be at least 1 (how many composes stay for rollback; 3 when left out)", pub.Keep)
	}
	if comp := pub.Compression; comp != "" && comp != "gz" && comp != "zst" {
		p.at("publish.compression", "%q: use gz or zst", comp)
	}

	seen := map[string]int{}
	for i, g := range c.SIGs {
		path := fmt.Sprintf("sigs[%d].name", i)
		if !p.name(path, g.Name, namePattern, maxNameLen, "lower-case letters and digits, starting with a letter") {
			continue
		}
		if g.Name == layout.ReleaseOwner {
			p.at(path, "release is reserved: sig/release holds the SIG release packages")
		}
		if first, ok := seen[g.Name]; ok {
			p.at(path, "sig %s is listed twice (first on line %d)", g.Name, first)
		}
		seen[g.Name] = g.Line
		// The core builds <distro>-release-<sig> beside its own packages.
		release := layout.Names(c.Distribution.Name).ReleasePackage(g.Name)
		if first, ok := pkgs.fold[strings.ToLower(release)]; ok {
			p.at(path, "sig %s's release package %s would be the core package %s (line %d)", g.Name, release, first, pkgs.exact[first])
		}
		if _, err := g.ConfigJSON(); err != nil {
			p.at(fmt.Sprintf("sigs[%d].config", i), "sig %s: %v", g.Name, err)
		}
		for j, src := range g.GitSources {
			p.check(fmt.Sprintf("sigs[%d].git_sources[%d]", i, j), src, gitSourceProblem(src))
		}
	}

	for i, d := range c.Plugins.Dirs {
		p.check(fmt.Sprintf("plugins.dirs[%d]", i), d, locationProblem(d, dirLoc, nil, nil))
	}
	for _, t := range []struct {
		key string
		set bool
		bad bool
	}{
		{"plugins.start_timeout", p.pos.has("plugins.start_timeout"), c.Plugins.StartTimeout <= 0},
		{"plugins.call_timeout", p.pos.has("plugins.call_timeout"), c.Plugins.CallTimeout <= 0},
	} {
		if t.set && t.bad {
			p.at(t.key, "must be a positive duration like 10s or 2m")
		}
	}
	c.validateLimits(p, "build.limits", c.Build.Limits)
	switch c.Build.Toolchain {
	case "", ToolchainBuildroot, ToolchainCross:
	default:
		p.at("build.toolchain", "%q is not a toolchain (buildroot, the default, or cross)", c.Build.Toolchain)
	}
	c.validateEngine(p, c.Build.Engine)
	for a := range c.Build.Buildroot.Images {
		if !slices.Contains(KnownArches, a) {
			p.at("build.buildroot.images."+a, "unknown arch %q (known: %s)", a, strings.Join(KnownArches, ", "))
		}
	}
	c.validateLimits(p, "plugins.limits", c.Plugins.Limits)
	if p.pos.has("plugins.limits.time") {
		p.at("plugins.limits.time", "a plugin's time is plugins.start_timeout and plugins.call_timeout")
	}
}

// validateLimits checks one sandbox's limits: each set one is positive
// and leaves a build room to run.
func (c *Config) validateLimits(p *problems, where string, l Limits) {
	for _, t := range []struct {
		key string
		bad bool
		msg string
	}{
		{"time", l.Time <= 0, "must be a positive duration like 30m or 2h"},
		{"processes", l.Processes < 16, "must be at least 16"},
		{"disk", l.Disk < 16<<20, "must be at least 16MiB"},
		{"log", l.Log < 64<<10, "must be at least 64KiB"},
	} {
		if key := where + "." + t.key; p.pos.has(key) && t.bad {
			p.at(key, "%s", t.msg)
		}
	}
}

// validateEngine checks build.engine: embedded, or NATS URLs; sane
// retries and replicas.
func (c *Config) validateEngine(p *problems, e Engine) {
	if !e.Distributed() {
		for _, k := range []string{"replicas", "ack_wait", "max_deliveries", "credentials"} {
			if p.pos.has("build.engine." + k) {
				p.at("build.engine."+k, "is for an engine: set build.engine.url (embedded, or the cluster's nats:// URLs)")
			}
		}
		return
	}
	if err := CheckEngineURL(e.URL); err != nil {
		p.at("build.engine", "%v", err)
		return
	}
	if e.Embedded() && e.Replicas > 1 {
		p.at("build.engine.replicas", "the embedded engine is one server: it keeps one replica")
	}
	if e.Replicas < 0 || e.Replicas > 5 {
		p.at("build.engine.replicas", "must be 1 to 5 (JetStream's range)")
	}
	if p.pos.has("build.engine.ack_wait") && e.AckWait < time.Second {
		p.at("build.engine.ack_wait", "must be a duration of a second or more, like 30s or 2m")
	}
	if p.pos.has("build.engine.max_deliveries") && e.MaxDeliveries < 1 {
		p.at("build.engine.max_deliveries", "must be at least 1")
	}
	if e.Embedded() && e.Credentials != "" {
		p.at("build.engine.credentials", "the embedded engine has no credentials: it opens no port")
	}
}

// CheckEngineURL checks an engine's URL: embedded, or NATS URLs.
func CheckEngineURL(u string) error {
	if u == EngineEmbedded {
		return nil
	}
	for _, one := range strings.Split(u, ",") {
		pu, err := url.Parse(strings.TrimSpace(one))
		if err != nil || (pu.Scheme != "nats" && pu.Scheme != "tls") || pu.Host == "" {
			return fmt.Errorf("%q is not an engine: embedded, or NATS URLs (nats://host:4222 or tls://host:4222, comma-separated)", redact(one))
		}
		if pu.User != nil {
			// It would be printed in errors, logs and the run history.
			return fmt.Errorf("%q holds a user or password: give build.engine.credentials (a NATS credentials file) instead", pu.Redacted())
		}
	}
	return nil
}

// redact hides what looks like a password in a URL that does not parse.
func redact(u string) string {
	if at := strings.LastIndex(u, "@"); at >= 0 {
		return "xxxxx" + u[at:]
	}
	return u
}
