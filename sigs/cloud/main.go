// Command quarry-sig-cloud is the cloud SIG: kickstarts per target
// (generic and two clouds), validated, and an image: a root file system
// installed with dnf from the composed repositories (which it reads, never
// writes), packed as an OCI image layout archive and as a tarball.
package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"github.com/quarrylinux/quarry/sdk"
)

//go:embed cloud-init-lite.spec
var cloudInitSpec []byte

// Config is the cloud SIG's block of quarry.yaml.
type Config struct {
	// Targets are the kickstarts to ship: generic, ec2, gce.
	Targets []string `json:"targets"`
	Image   Image    `json:"image"`
}

// Image is the image the SIG builds.
type Image struct {
	Name     string   `json:"name"`
	Packages []string `json:"packages"` // besides cloud-init-lite
}

// targets are the kickstart flavours this SIG knows: what each adds.
var targets = map[string][]string{
	"generic": nil,
	"ec2":     {"cloud-init-lite"},
	"gce":     {"cloud-init-lite"},
}

type cloud struct {
	cfg  Config
	dist sdk.Distribution
}

func (c *cloud) Info() sdk.Info {
	return sdk.Info{Version: "1.0.0", Description: "kickstarts per cloud and an OCI image built from the composed repositories"}
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

func (c *cloud) Configure(ctx context.Context, req sdk.ConfigureRequest) sdk.Diagnostics {
	c.cfg = Config{Targets: []string{"generic", "ec2", "gce"}, Image: Image{Name: req.Distribution.Name + "-cloud", Packages: []string{req.Distribution.Name + "-release"}}}
	c.dist = req.Distribution
	diags := req.Decode(&c.cfg)
	if diags.HasErrors() {
		return diags
	}
	for i, t := range c.cfg.Targets {
		if _, ok := targets[t]; !ok {
			diags = append(diags, sdk.Diagnostic{Severity: sdk.Error, Path: fmt.Sprintf("targets[%d]", i), Summary: fmt.Sprintf("unknown target %q", t), Detail: "known: ec2, gce, generic"})
		}
	}
	if !namePattern.MatchString(c.cfg.Image.Name) {
		diags = append(diags, sdk.Errorf("image.name", "%q must be lower-case letters, digits and -", c.cfg.Image.Name))
	}
	for i, p := range c.cfg.Image.Packages {
		if strings.ContainsAny(p, " \t/") || p == "" {
			diags = append(diags, sdk.Errorf(fmt.Sprintf("image.packages[%d]", i), "%q is not a package name or @group", p))
		}
	}
	return diags
}

func (c *cloud) Repos(ctx context.Context) ([]sdk.Repo, error) {
	return []sdk.Repo{{ID: "cloud", Name: "Cloud", Description: "Packages for cloud images"}}, nil
}

func (c *cloud) Packages(ctx context.Context) ([]sdk.Package, error) {
	return []sdk.Package{{Name: "cloud-init-lite", Repo: "cloud", Spec: "cloud-init-lite.spec", Files: []sdk.File{
		{Path: "cloud-init-lite.spec", Mode: 0o644, Data: cloudInitSpec},
		{Path: "cloud.cfg", Mode: 0o644, Data: []byte("# cloud-init-lite\ndatasource_list: [Ec2, GCE, NoCloud]\nusers: [default]\n")},
	}}}, nil
}

// repos are where the image and kickstarts install from.
var repos = []string{"BaseOS", "AppStream", "cloud"}

// Installers: a kickstart per target, and the image (built by
// BuildInstaller once the repositories are composed) in two forms.
func (c *cloud) Installers(ctx context.Context) ([]sdk.Installer, error) {
	var out []sdk.Installer
	for _, t := range c.cfg.Targets {
		pkgs := append(append([]string(nil), c.cfg.Image.Packages...), targets[t]...)
		ks := kickstart(c.dist, t, pkgs)
		if err := validateKickstart(ks); err != nil {
			return nil, fmt.Errorf("kickstart %s: %w", t, err)
		}
		out = append(out, sdk.Installer{Name: c.cfg.Image.Name + "-" + t, Kind: sdk.Kickstart, Content: []byte(ks), Packages: pkgs, Repos: repos})
	}
	img := append(append([]string(nil), c.cfg.Image.Packages...), "cloud-init-lite")
	for _, form := range []string{"oci", "rootfs"} {
		out = append(out, sdk.Installer{Name: c.cfg.Image.Name + "-" + form, Kind: sdk.Image, Packages: img, Repos: repos, Build: true,
			Content: []byte(fmt.Sprintf("{\"name\":%q,\"form\":%q}\n", c.cfg.Image.Name, form))})
	}
	return out, nil
}

// kickstart writes a target's kickstart: an unattended text install with
// the repositories and packages the image has.
func kickstart(d sdk.Distribution, target string, pkgs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s %s, %s target (cloud SIG)\ntext\nlang C.UTF-8\nkeyboard us\ntimezone UTC --utc\n", d.PrettyName, d.Version, target)
	b.WriteString("rootpw --lock\nselinux --enforcing\nfirewall --disabled\nbootloader --timeout=1\nzerombr\nclearpart --all --initlabel\nautopart --type=plain --nohome\nreboot\n")
	if target != "generic" {
		b.WriteString("network --bootproto=dhcp --device=link --activate\nservices --enabled=sshd\n")
	}
	b.WriteString("\n%packages\n")
	for _, p := range pkgs {
		b.WriteString(p + "\n")
	}
	b.WriteString("%end\n")
	return b.String()
}

// validateKickstart checks what an installer needs: the commands of an
// unattended install, and one well-formed %packages section.
func validateKickstart(ks string) error {
	need := map[string]bool{"lang": false, "keyboard": false, "timezone": false, "rootpw": false, "bootloader": false}
	inPackages, sections := false, 0
	for i, line := range strings.Split(ks, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "%packages":
			if inPackages {
				return fmt.Errorf("line %d: %%packages inside %%packages", i+1)
			}
			inPackages = true
			sections++
		case line == "%end":
			if !inPackages {
				return fmt.Errorf("line %d: %%end outside a section", i+1)
			}
			inPackages = false
		case !inPackages:
			cmd, _, _ := strings.Cut(line, " ")
			if _, ok := need[cmd]; ok {
				need[cmd] = true
			}
		}
	}
	if inPackages {
		return fmt.Errorf("%%packages has no %%end")
	}
	if sections != 1 {
		return fmt.Errorf("%d %%packages sections, want 1", sections)
	}
	var missing []string
	for cmd, ok := range need {
		if !ok {
			missing = append(missing, cmd)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		return fmt.Errorf("no %s command", strings.Join(missing, ", "))
	}
	return nil
}

// arch is the image's arch: the build host's.
func arch() string {
	switch runtime.GOARCH {
	case "arm64":
		return "aarch64"
	case "ppc64le":
		return "ppc64le"
	case "s390x":
		return "s390x"
	}
	return "x86_64"
}

// BuildInstaller installs the image's root file system with dnf from the
// composed repositories (read-only), with gpgcheck and repo_gpgcheck on,
// and packs it.
func (c *cloud) BuildInstaller(ctx context.Context, req sdk.BuildRequest) (sdk.Artifact, error) {
	log := sdk.Logger()
	rootfs := filepath.Join(req.ScratchDir, "rootfs")
	pkgs, err := c.rootfs(ctx, req.ReposDir, req.ScratchDir, rootfs)
	if err != nil {
		return sdk.Artifact{}, err
	}
	log.Info("rootfs ready", "packages", len(pkgs))
	layer, err := layerTar(rootfs)
	if err != nil {
		return sdk.Artifact{}, err
	}
	switch {
	case strings.HasSuffix(req.Name, "-rootfs"):
		p := filepath.Join(req.ScratchDir, c.cfg.Image.Name+"-rootfs.tar.gz")
		if err := os.WriteFile(p, layer.gz, 0o644); err != nil {
			return sdk.Artifact{}, err
		}
		return sdk.Artifact{Name: filepath.Base(p), MediaType: "application/gzip", Path: p, Packages: pkgs}, nil
	case strings.HasSuffix(req.Name, "-oci"):
		p := filepath.Join(req.ScratchDir, c.cfg.Image.Name+".oci.tar")
		if err := ociArchive(p, layer, arch(), c.dist.Version, pkgs); err != nil {
			return sdk.Artifact{}, err
		}
		return sdk.Artifact{Name: filepath.Base(p), MediaType: "application/vnd.oci.image.layout.v1+tar", Path: p, Packages: pkgs}, nil
	}
	return sdk.Artifact{}, fmt.Errorf("no installer %q to build", req.Name)
}

// rootfs installs the image's packages into dir once per plugin run.
func (c *cloud) rootfs(ctx context.Context, reposDir, scratch, dir string) ([]string, error) {
	list := filepath.Join(scratch, "rootfs.packages")
	if data, err := os.ReadFile(list); err == nil {
		return strings.Fields(string(data)), nil
	}
	os.RemoveAll(dir)
	conf := filepath.Join(scratch, "dnf")
	if err := os.MkdirAll(filepath.Join(conf, "repos.d"), 0o755); err != nil {
		return nil, err
	}
	d, a := c.dist.Name, arch()
	var repoFile strings.Builder
	for _, r := range []struct{ id, path, key string }{
		{"baseos", "repos/BaseOS/" + a, "RPM-GPG-KEY-" + d},
		{"appstream", "repos/AppStream/" + a, "RPM-GPG-KEY-" + d},
		{"cloud", "sig/cloud/cloud/" + a, "RPM-GPG-KEY-" + d + "-sig-cloud"},
	} {
		fmt.Fprintf(&repoFile, "[%s]\nname=%s\nbaseurl=file://%s/%s/\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file://%s/keys/%s\n\n", r.id, r.id, reposDir, r.path, reposDir, r.key)
	}
	if err := os.WriteFile(filepath.Join(conf, "repos.d", "image.repo"), []byte(repoFile.String()), 0o644); err != nil {
		return nil, err
	}
	dnfConf := fmt.Sprintf("[main]\ncachedir=%[1]s/cache\nlogdir=%[1]s/log\npersistdir=%[1]s/persist\nreposdir=%[1]s/repos.d\ninstall_weak_deps=False\n", conf)
	if err := os.WriteFile(filepath.Join(conf, "dnf.conf"), []byte(dnfConf), 0o644); err != nil {
		return nil, err
	}
	pkgs := append(append([]string(nil), c.cfg.Image.Packages...), "cloud-init-lite")
	args := append([]string{"-y", "-q", "--config", filepath.Join(conf, "dnf.conf"), "--installroot", dir, "--releasever", c.dist.Version, "--forcearch", a, "install"}, pkgs...)
	out, err := exec.CommandContext(ctx, "dnf", args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("dnf install into the image: %v\n%s", err, tail(string(out)))
	}
	q, err := exec.CommandContext(ctx, "rpm", "--root", dir, "-qa", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\n").Output()
	if err != nil {
		return nil, fmt.Errorf("list the image's packages: %w", err)
	}
	names := strings.Fields(string(q))
	sort.Strings(names)
	// What dnf leaves that differs from run to run is not part of the image.
	for _, p := range []string{"var/cache/dnf", "var/log", "var/lib/dnf", "var/lib/rpm/.rpm.lock", "var/lib/rpm/rpmdb.sqlite-shm", "var/lib/rpm/rpmdb.sqlite-wal"} {
		os.RemoveAll(filepath.Join(dir, p))
	}
	return names, os.WriteFile(list, []byte(strings.Join(names, "\n")), 0o644)
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

func main() { sdk.Serve("cloud", func() sdk.Plugin { return &cloud{} }) }
