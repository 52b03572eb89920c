// Package config reads quarry.yaml, the description of the distribution Quarry
// rebuilds: its identity, its upstream, its debranding patches and which
// packages go into which core repository.
//
// Decoding is strict: an unknown key, a value of the wrong type, an unknown
// architecture or a package listed twice is an error naming file:line.
// Every value that reaches a path, an rpm macro or header, a dnf repo id or
// .repo file, a git ref or a URL is checked up front (validate*.go), so
// that nothing is built from a config that cannot be published.
package config

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is a decoded quarry.yaml.
type Config struct {
	Distribution Distribution `yaml:"distribution"`
	Upstream     Upstream     `yaml:"upstream"`
	Patches      Patches      `yaml:"patches"`
	Push         *Push        `yaml:"push"`
	Repositories []Repository `yaml:"repositories"`
	Signing      Signing      `yaml:"signing"`
	Publish      Publish      `yaml:"publish"`
	Release      Release      `yaml:"release"`
	SIGs         []SIG        `yaml:"sigs"`
	Plugins      Plugins      `yaml:"plugins"`
	Build        Build        `yaml:"build"`

	// File is the path the config was read from; relative locations in it are
	// resolved against its folder.
	File string `yaml:"-"`
}

// Distribution names what is being built.
type Distribution struct {
	Name       string `yaml:"name"`        // short name: pebble
	PrettyName string `yaml:"pretty_name"` // Pebble Linux
	Version    string `yaml:"version"`     // 9.4
	DistTag    string `yaml:"dist_tag"`    // .pbl9
	Vendor     string `yaml:"vendor"`
	Packager   string `yaml:"packager"`
	// VersionMacro names the distribution's own %rhel-style macro
	// (%pebble 9); %rhel is defined too, since upstream specs test it.
	VersionMacro string `yaml:"version_macro"`
	Arches       []Arch `yaml:"arches"`
}

// Major is the major version: "9" for "9.4".
func (d Distribution) Major() string {
	major, _, _ := strings.Cut(d.Version, ".")
	return major
}

// Upstream says where the base distribution's sources come from: dist-git
// repositories with a lookaside cache, or a folder or URL of SRPMs.
type Upstream struct {
	DistGit   *DistGit   `yaml:"dist_git"`
	Lookaside *Lookaside `yaml:"lookaside"`
	SRPMs     string     `yaml:"srpms"`
	// Keys are files of armored public keys upstream signs its SRPMs
	// with. When set, every SRPM must carry a signature by one of them
	// that verifies (as dnf's gpgcheck), or it is not imported.
	Keys []string `yaml:"keys"`
}

// DistGit locates the per-package git repositories.
type DistGit struct {
	// URL is a template with {name}: https://git.example/rpms/{name}.git.
	// A path without a scheme is relative to the config file.
	URL string `yaml:"url"`
	// Branch is the upstream branch, such as c9 or c9s.
	Branch string `yaml:"branch"`
	// Tags picks the newest imports/<branch>/<nvr> tag instead of the head of
	// the branch, the way CentOS publishes what RHEL shipped.
	Tags bool `yaml:"tags"`
}

// Lookaside locates source archives kept out of git.
type Lookaside struct {
	// URL is a template with {name}, {filename}, {hashtype} and {hash}.
	URL string `yaml:"url"`
}

// Patches locates the per-package debranding repositories.
type Patches struct {
	// URL is a template with {name}.
	URL string `yaml:"url"`
	// Branch is read after main: directives common to every release first,
	// then those of this one.
	Branch string `yaml:"branch"`
	// Lookaside is a template with {hash} (and optionally {hashtype}) for the
	// objects that directives name by hash (with_lookaside, add.lookaside).
	Lookaside string `yaml:"lookaside"`
	// None lists packages that have no patch repository. For any other
	// package a missing patch repository is an error.
	None []PackageRef `yaml:"none"`
}

// Push is the downstream git that `quarry import --push` publishes the
// debranded trees to, the way srpmproc does.
type Push struct {
	URL string `yaml:"url"` // template with {name}
	// Branch is the branch per distribution major; {major} is replaced
	// (default r{major}: r9).
	Branch string `yaml:"branch"`
	// Lookaside, when set, is a folder the debranded lookaside sources are
	// written to as <sha256>; git keeps only their hashes.
	Lookaside string `yaml:"lookaside"`
}

// PushBranch is the downstream branch for this distribution's major.
func (c *Config) PushBranch() string {
	b := "r{major}"
	if c.Push != nil && c.Push.Branch != "" {
		b = c.Push.Branch
	}
	return strings.ReplaceAll(b, "{major}", c.Distribution.Major())
}

// Signing names the core's signing key. With neither key nor gpg_key, the
// key is <state>/keys/core.key, made by quarry key init.
type Signing struct {
	Key            string `yaml:"key"`     // an armored private key file
	GPGKey         string `yaml:"gpg_key"` // or a key id in the user's gpg keyring
	PassphraseFile string `yaml:"passphrase_file"`
}

// Publish shapes the published tree.
type Publish struct {
	// URL is where users' dnf finds the published tree (the .repo files
	// point at it). Default: file://<out>/current, for local use.
	URL string `yaml:"url"`
	// Keep is how many composes stay on disk for rollback (default 3).
	Keep int `yaml:"keep"`
	// Compression of the repodata: gz (default) or zst.
	Compression string `yaml:"compression"`
}

// Release names the core package that carries the repositories' .repo
// file and the public key (<distro>-release). The core adds both files to
// its sources as <distro>.repo and RPM-GPG-KEY-<distro>; its spec installs
// them.
type Release struct {
	Package string `yaml:"package"`
}

// SIG is one enabled Special Interest Group: its plugin is
// quarry-sig-<name>, and Config is handed to it as JSON.
type SIG struct {
	Name   string    `yaml:"name"`
	Config yaml.Node `yaml:"config"`
	// GitSources are the git repositories (a URL, or a prefix ending in
	// /) the SIG's packages may name as their sources: the host fetches
	// them, so none are allowed unless listed. https://, or file:// for a
	// folder on this machine.
	GitSources []string `yaml:"git_sources"`
	Line       int      `yaml:"-"`
}

// UnmarshalYAML keeps the line, for errors about the SIG.
func (s *SIG) UnmarshalYAML(n *yaml.Node) error {
	// n.Decode would not be strict about keys (yaml's KnownFields does
	// not reach into an UnmarshalYAML): check them here.
	if n.Kind == yaml.MappingNode {
		var unknown []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Value != "name" && k.Value != "config" && k.Value != "git_sources" {
				unknown = append(unknown, fmt.Sprintf("line %d: unknown key %q in sig (a SIG's settings go under config:)", k.Line, k.Value))
			}
		}
		if len(unknown) > 0 {
			return &yaml.TypeError{Errors: unknown}
		}
	}
	type plain SIG
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*s = SIG(p)
	s.Line = n.Line
	return nil
}

// ConfigJSON is the SIG's config block as JSON ("null" when absent).
func (s *SIG) ConfigJSON() ([]byte, error) {
	if s.Config.Kind == 0 {
		return []byte("null"), nil
	}
	var v any
	if err := s.Config.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// Plugins says where SIG plugins are and how long they may take.
type Plugins struct {
	// Dirs are searched for quarry-sig-<name>, relative to the config
	// file (default: bin, then the config's folder).
	Dirs         []string      `yaml:"dirs"`
	StartTimeout time.Duration `yaml:"start_timeout"` // default 10s
	CallTimeout  time.Duration `yaml:"call_timeout"`  // default 2m
	// Limits bound each plugin's processes, scratch folder and stderr
	// (its time is the timeouts above).
	Limits Limits `yaml:"limits"`
}

// Build shapes the build jobs.
type Build struct {
	// Limits bound every build job, SRPM build and spec query.
	Limits Limits `yaml:"limits"`
	// Toolchain is where jobs build: "buildroot" (the default), inside
	// their arch's pinned buildroot image, natively or under qemu-user;
	// or "cross", the host's rpmbuild with Debian's cross compilers (an
	// opt-in for specs that use %{__cc}: quick, but its programs need
	// the host's C library).
	Toolchain string `yaml:"toolchain"`
	// Buildroot names the images.
	Buildroot Buildroot `yaml:"buildroot"`
	// Engine is where jobs run: on this machine's pool (unset), on an
	// in-process JetStream server with in-process workers ("embedded"),
	// or on a NATS JetStream cluster's workers (its URLs).
	Engine Engine `yaml:"engine"`
}

// EngineEmbedded is Engine.URL for the in-process JetStream server.
const EngineEmbedded = "embedded"

// Engine is the distributed engine the jobs run on. In YAML it is its
// URL alone (engine: embedded; engine: nats://n1:4222,nats://n2:4222) or
// a mapping of the fields below.
type Engine struct {
	URL string `yaml:"url"`
	// Replicas of every stream and bucket (default 1 embedded, 3 on a
	// cluster).
	Replicas int `yaml:"replicas"`
	// AckWait is how long a job may go without its worker's heartbeat
	// before another worker gets it (default 1m).
	AckWait time.Duration `yaml:"ack_wait"`
	// MaxDeliveries is how many times a job is handed to a worker before
	// it fails (default 3).
	MaxDeliveries int `yaml:"max_deliveries"`
	// Credentials is a NATS credentials file for a cluster.
	Credentials string `yaml:"credentials"`
}

// Distributed says whether the jobs run on an engine.
func (e Engine) Distributed() bool { return e.URL != "" }

// Embedded says whether the engine is the in-process one.
func (e Engine) Embedded() bool { return e.URL == EngineEmbedded }

// UnmarshalYAML reads the engine as its URL alone, or as a mapping whose
// keys are checked as every other mapping's are.
func (e *Engine) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		e.URL = n.Value
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: must be a URL (embedded, nats://...) or a mapping (url:, replicas:, ack_wait:, max_deliveries:, credentials:)", n.Line)
	}
	known := map[string]bool{"url": true, "replicas": true, "ack_wait": true, "max_deliveries": true, "credentials": true}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !known[k.Value] {
			return fmt.Errorf("line %d: unknown key %q in engine", k.Line, k.Value)
		}
	}
	type plain Engine
	return n.Decode((*plain)(e))
}

// Toolchains.
const (
	ToolchainBuildroot = "buildroot"
	ToolchainCross     = "cross"
)

// Buildroot names each arch's base root file system image: an OCI image
// (layout folder or archive), pinned in quarry.lock by its manifest's
// digest, or a rootfs tarball (.tar, .tar.gz, .tar.zst, .tar.xz), pinned
// by the digest of its tar stream.
type Buildroot struct {
	// Image is the image of every arch, {arch} standing for the arch
	// (default: DefaultImage, the stand-ins scripts/buildroot.sh makes).
	Image string `yaml:"image"`
	// Images overrides Image for some arches.
	Images map[string]string `yaml:"images"`
	// Cache is where images are unpacked, a folder per digest, shared by
	// every distribution on the machine (default DefaultRootCache).
	Cache string `yaml:"cache"`
}

// The stand-in images' place, and where images are unpacked.
const (
	DefaultImage     = "/var/cache/quarry/images/{arch}.tar.zst"
	DefaultRootCache = "/var/cache/quarry/roots"
)

// ImageOf is arch's image, resolved against the config's folder.
func (c *Config) ImageOf(arch string) string {
	img := c.Build.Buildroot.Images[arch]
	if img == "" {
		img = strings.ReplaceAll(cmp.Or(c.Build.Buildroot.Image, DefaultImage), "{arch}", arch)
	}
	return c.Resolve(img)
}

// RootCache is where images are unpacked.
func (c *Config) RootCache() string {
	return c.Resolve(cmp.Or(c.Build.Buildroot.Cache, DefaultRootCache))
}

// Cross says whether jobs build with the host's cross compilers.
func (c *Config) Cross() bool { return c.Build.Toolchain == ToolchainCross }

// Limits bound one sandbox. Zero fields take Quarry's defaults (2h, 1024
// processes, 8GiB, 64MiB for builds; 256 processes and 2GiB for plugins).
type Limits struct {
	Time      time.Duration `yaml:"time"`
	Processes int           `yaml:"processes"`
	Disk      Size          `yaml:"disk"` // the job's folder, a tmpfs
	Log       Size          `yaml:"log"`
}

// Size is a byte count written as 8GiB, 512MiB, 64KiB or plain bytes.
type Size int64

// UnmarshalYAML reads the units dnf and systemd users write.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseSize(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a size (write 8GiB, 512MiB, 64KiB or a number of bytes)", n.Line, n.Value)}}
	}
	*s = Size(v)
	return nil
}

// ParseSize reads 8GiB, 8G, 512MiB, 64KiB, 64k or 1048576.
func ParseSize(text string) (int64, error) {
	t := strings.TrimSpace(text)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.size
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size", text)
	}
	return n * mult, nil
}

// PluginDirs are Plugins.Dirs resolved.
func (c *Config) PluginDirs() []string {
	dirs := c.Plugins.Dirs
	if len(dirs) == 0 {
		dirs = []string{"bin", "."}
	}
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = c.Resolve(d)
	}
	return out
}

// Repository is one core repository and the source packages it carries.
type Repository struct {
	Name     string       `yaml:"name"`
	Optional bool         `yaml:"optional"` // shipped disabled, like CRB
	Packages []PackageRef `yaml:"packages"`
	// Groups are the repository's comps groups (dnf group install).
	Groups []Group `yaml:"groups"`
}

// Group is one comps group. Its packages are binary package names.
type Group struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Default marks a group an installer selects by default.
	Default bool `yaml:"default"`
	// Hidden groups are left out of dnf group list (uservisible false).
	Hidden   bool          `yaml:"hidden"`
	Packages GroupPackages `yaml:"packages"`
}

// GroupPackages are a group's packages by how they are installed:
// mandatory always, default unless excluded, optional only when asked.
type GroupPackages struct {
	Mandatory []PackageRef `yaml:"mandatory"`
	Default   []PackageRef `yaml:"default"`
	Optional  []PackageRef `yaml:"optional"`
}

// All lists every package of the group.
func (g GroupPackages) All() []PackageRef {
	return append(append(append([]PackageRef(nil), g.Mandatory...), g.Default...), g.Optional...)
}

// PackageRef is a source package name with the line it was written on.
type PackageRef struct {
	Name string
	Line int
}

// UnmarshalYAML keeps the line for later checks (duplicates, unknown names).
func (p *PackageRef) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a package name must be a string", n.Line)}}
	}
	p.Name, p.Line = n.Value, n.Line
	return nil
}

// Arch is a build architecture with the line it was written on.
type Arch struct {
	Name string
	Line int
}

// KnownArches are the architectures Quarry builds, noarch aside (it is
// implied: noarch packages are built once and published into every arch).
var KnownArches = []string{"x86_64", "aarch64", "ppc64le", "s390x"}

// UnmarshalYAML rejects architectures Quarry does not build.
func (a *Arch) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: an arch must be a string", n.Line)}}
	}
	for _, k := range KnownArches {
		if n.Value == k {
			a.Name, a.Line = n.Value, n.Line
			return nil
		}
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: unknown arch %q (known: %s)", n.Line, n.Value, strings.Join(KnownArches, ", "))}}
}

// Load reads and validates a config file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates config data read from file. The data is
// read twice: into a node tree for the lines of every key, then strictly
// into Config.
func Parse(file string, data []byte) (*Config, error) {
	root, err := readNode(file, data)
	if err != nil {
		return nil, err
	}
	pos := newPositions(root)
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, decodeError(file, err, pos)
	}
	c.File = file
	if err := c.validate(pos); err != nil {
		return nil, err
	}
	return &c, nil
}

// Error is a config error; its message names file:line.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Resolve turns a location written in the config (a URL, or a path relative
// to the config file) into a URL or an absolute path.
func (c *Config) Resolve(loc string) string {
	if loc == "" || strings.Contains(loc, "://") || filepath.IsAbs(loc) {
		return loc
	}
	abs, err := filepath.Abs(filepath.Join(filepath.Dir(c.File), loc))
	if err != nil {
		return loc
	}
	return abs
}

// Packages returns every source package of the core, in config order.
func (c *Config) Packages() []string {
	var out []string
	for _, r := range c.Repositories {
		for _, p := range r.Packages {
			out = append(out, p.Name)
		}
	}
	return out
}

// HasPackage reports whether name is a core source package.
func (c *Config) HasPackage(name string) bool {
	for _, p := range c.Packages() {
		if p == name {
			return true
		}
	}
	return false
}

// RepositoryOf names the core repository carrying a source package.
func (c *Config) RepositoryOf(name string) string {
	for _, r := range c.Repositories {
		for _, p := range r.Packages {
			if p.Name == name {
				return r.Name
			}
		}
	}
	return ""
}

// HasPatches reports whether a package is expected to have a patch repository.
func (c *Config) HasPatches(name string) bool {
	if c.Patches.URL == "" {
		return false
	}
	for _, p := range c.Patches.None {
		if p.Name == name {
			return false
		}
	}
	return true
}

// ArchNames lists the distribution's arches.
func (c *Config) ArchNames() []string {
	out := make([]string, len(c.Distribution.Arches))
	for i, a := range c.Distribution.Arches {
		out[i] = a.Name
	}
	return out
}
