// Package toolchain is what builds, and what it is told: per target arch,
// rpm's macros and rpmrc and the versions of the tools that build (Env:
// NewEnv checks a target's compilers are installed and asks them their
// versions; RootEnv names a pinned buildroot image instead), written into
// a job's folder by WriteEnv; and what the build host (or a buildroot)
// provides without building it (Host). Every Env is part of every job's
// cache key.
package toolchain

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/quarrylinux/quarry/core/arch"
	"github.com/quarrylinux/quarry/core/config"
	"github.com/quarrylinux/quarry/core/rpmspec"
	"github.com/quarrylinux/quarry/core/sandbox"
)

// Sysroot is where a job's BuildRequires from the batch are installed,
// inside the sandbox; the compiler flags point into it.
const Sysroot = sandbox.Dir + "/sysroot"

// macroPath is rpm's own macro files, without the host's /etc/rpm and
// ~/.rpmmacros (which must not leak into builds), then Quarry's.
const macroPath = "/usr/lib/rpm/macros:/usr/lib/rpm/macros.d/macros.*:/usr/lib/rpm/platform/%{_target}/macros:" +
	"/usr/lib/rpm/fileattrs/*.attr:/usr/lib/rpm/debian/macros:" + sandbox.Dir + "/quarry.macros"

// Env is everything rpm is told for one target arch: it is part of every
// job's cache key.
type Env struct {
	Arch string `json:"arch"`
	// Macros is the content of quarry.macros: the distribution's macros
	// and, for a foreign arch, its cross tools.
	Macros string `json:"macros"`
	// RPMRC sets %optflags, which rpm takes from rpmrc after every macro
	// file, so it cannot be set as a macro.
	RPMRC string `json:"rpmrc"`
	// Toolchain names the versions of the tools that build (compiler, rpm).
	Toolchain string `json:"toolchain"`
	// Build is, for noarch, the arch rpm reads the spec and builds as:
	// the arch noarch jobs build on. rpmbuild reads a BuildArch: noarch
	// spec with the build arch's platform macros (%__isa_bits, %_arch,
	// %_lib) and only sets the target cpu to noarch, so the RPMs are
	// noarch; --target noarch would load noarch's, which lack them, and
	// `%if %{__isa_bits} == 64` (bash, glibc) would not parse.
	Build string `json:"build,omitempty"`
	// Buildroot is the pinned digest of the image the job builds in
	// (its arch's, or for noarch the Build arch's): it stands for the
	// toolchain in the job's key, so that two machines with the same
	// image and inputs compute the same key. Empty in the cross mode,
	// where Toolchain names the host's tools.
	Buildroot string `json:"buildroot,omitempty"`
}

// RPMArgs are the rpm options that apply the Env written in /build.
func (e Env) RPMArgs() []string {
	target := e.Arch
	if target == arch.Noarch {
		target = e.Build
		if target == "" {
			target = arch.Host()
		}
	}
	if e.Buildroot != "" {
		// The root's own rpm, with its own macros and rpmrc (the image's
		// are pinned with it), and the distribution's on top: as
		// --define, which outranks the root's files and, unlike --load,
		// survives --target rereading them.
		args := []string{"--target", target,
			"--define", "_topdir " + sandbox.Dir + "/top", "--define", "_tmppath " + sandbox.Dir + "/tmp"}
		for _, line := range strings.Split(strings.TrimSpace(e.Macros), "\n") {
			if def, ok := strings.CutPrefix(line, "%"); ok {
				args = append(args, "--define", def)
			}
		}
		return args
	}
	return []string{"--rcfile", "/usr/lib/rpm/rpmrc:" + sandbox.Dir + "/quarry.rpmrc", "--macros", macroPath, "--target", target,
		"--define", "_topdir " + sandbox.Dir + "/top", "--define", "_tmppath " + sandbox.Dir + "/tmp", "--dbpath", Sysroot + "/var/lib/rpm"}
}

// DistMacros are the distribution's own macros, the same for every arch.
func DistMacros(d config.Distribution) map[string]string {
	m := map[string]string{
		"dist":         d.DistTag,
		"vendor":       d.Vendor,
		"packager":     d.Packager,
		"distribution": strings.TrimSpace(d.PrettyName + " " + d.Version),
		"rhel":         d.Major(),
		// Reproducible output: build time and file times from the
		// changelog, a fixed build host.
		"_buildhost":                         "quarry." + d.Name,
		"source_date_epoch_from_changelog":   "1",
		"use_source_date_epoch_as_buildtime": "1",
		"clamp_mtime_to_source_date_epoch":   "1",
		// Debian's rpm has no find-debuginfo: no -debuginfo subpackages.
		"debug_package": "%{nil}",
		// EL specs' scripts are bash's; Debian's /bin/sh is dash.
		"_buildshell": rpmspec.BuildShell,
	}
	if d.VersionMacro != "" {
		m[d.VersionMacro] = d.Major()
	}
	return m
}

// RootEnv describes target arch a for distribution d, built inside the
// buildroot image pinned as digest: the distribution's macros only, the
// root brings its compiler and its flags. A noarch Env builds in build's
// root (whose digest the caller passes).
func RootEnv(d config.Distribution, a, build, digest string) Env {
	e := Env{Arch: a, Buildroot: digest}
	if a == arch.Noarch {
		e.Build = build
	}
	e.Macros = macroFile(DistMacros(d))
	return e
}

// macroFile writes macros as an rpm macro file, one per line, sorted: the
// same macros give the same bytes (and the same job keys).
func macroFile(m map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%%%s %s\n", k, m[k])
	}
	return b.String()
}

// NewEnv describes target arch a for distribution d, checking that its
// toolchain is installed. A noarch Env builds on the host's arch
// (srpm.Loader's on the distribution's build host, plan.BuildHost: see
// Env.Build and NewEnvOn).
func NewEnv(d config.Distribution, a string) (Env, error) {
	return NewEnvOn(d, a, arch.Host())
}

// NewEnvOn is NewEnv with noarch building on build.
func NewEnvOn(d config.Distribution, a, build string) (Env, error) {
	m := DistMacros(d)
	e := Env{Arch: a}
	cc := arch.Host() + "-linux-gnu-gcc"
	optArch := a
	if a == arch.Noarch {
		// rpm takes %optflags from rpmrc for the arch it runs as.
		e.Build, optArch = build, build
	} else {
		info, ok := arch.Lookup(a)
		if !ok {
			return e, fmt.Errorf("unknown arch %s", a)
		}
		if err := info.CheckToolchain(); err != nil {
			return e, err
		}
		cc = info.Compiler()
		if !info.Native() {
			for _, t := range []string{"cc:gcc", "cxx:g++", "cpp:cpp", "ar:ar", "as:as", "ld:ld", "nm:nm",
				"objcopy:objcopy", "objdump:objdump", "ranlib:ranlib", "strip:strip"} {
				macro, tool, _ := strings.Cut(t, ":")
				m["__"+macro] = info.Triplet + "-" + tool
			}
			m["_host"] = info.Triplet
		}
	}
	e.Macros = macroFile(m)
	flags := fmt.Sprintf("-O2 -g -I%[1]s/usr/include -L%[1]s/usr/lib64 -Wl,-rpath-link,%[1]s/usr/lib64", Sysroot)
	e.RPMRC = fmt.Sprintf("optflags: %s %s\n", optArch, flags)
	e.Toolchain = toolVersion(cc, "--version") + "; " + toolVersion("rpmbuild", "--version")
	return e, nil
}

func toolVersion(tool string, arg string) string {
	out, err := exec.Command(tool, arg).Output()
	if err != nil {
		return tool + " (unknown version)"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// WriteEnv writes the files Env.RPMArgs refers to into a job folder.
func WriteEnv(work string, e Env) error {
	for _, d := range []string{"tmp", "top/SPECS", "top/SOURCES"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(work, "quarry.macros"), []byte(e.Macros), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(work, "quarry.rpmrc"), []byte(e.RPMRC), 0o644)
}
