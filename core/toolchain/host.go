package toolchain

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/quarrylinux/quarry/core/plan"
)

// hostTools maps the capabilities a build host provides without building
// them to the file or command that shows they are there. Quarry does not
// bootstrap a compiler: the toolchain comes from the build host (Debian's,
// here; the distribution's own on production builders).
var hostTools = map[string]string{
	"gcc": "gcc", "gcc-c++": "g++", "cpp": "cpp", "make": "make", "binutils": "ld",
	"coreutils": "ls", "bash": "bash", "sed": "sed", "grep": "grep", "gawk": "gawk",
	"tar": "tar", "gzip": "gzip", "bzip2": "bzip2", "xz": "xz", "zstd": "zstd",
	"findutils": "find", "diffutils": "diff", "patch": "patch", "file": "file",
	"perl": "perl", "perl-interpreter": "perl", "python3": "python3",
	"autoconf": "autoconf", "automake": "automake", "libtool": "libtool",
	"pkgconfig": "pkg-config", "pkgconf-pkg-config": "pkg-config",
	"glibc-devel":    "/usr/include/stdio.h",
	"kernel-headers": "/usr/include/linux/version.h",
}

// Host is what the build host provides: the tools above that are
// installed, and any absolute path that exists.
type Host struct {
	have map[string]bool
	root string // a buildroot's unpacked image, or "" for the host's /
}

// DetectHost looks the host's tools up once.
func DetectHost() *Host {
	h := &Host{have: map[string]bool{}}
	for name, probe := range hostTools {
		if strings.HasPrefix(probe, "/") {
			_, err := os.Stat(probe)
			h.have[name] = err == nil
			continue
		}
		_, err := exec.LookPath(probe)
		h.have[name] = err == nil
	}
	return h
}

// DetectHostIn looks the tools up in a buildroot, root being its
// unpacked image: what its jobs find there.
func DetectHostIn(root string) *Host {
	h := &Host{have: map[string]bool{}, root: root}
	for name, probe := range hostTools {
		if strings.HasPrefix(probe, "/") {
			h.have[name] = h.exists(probe)
			continue
		}
		for _, dir := range []string{"/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"} {
			if h.exists(dir + probe) {
				h.have[name] = true
				break
			}
		}
	}
	return h
}

// exists says whether path is in the host's root (or the buildroot's).
// A link is not followed: in a root, an absolute one points into the
// host.
func (h *Host) exists(path string) bool {
	if h.root == "" {
		_, err := os.Stat(path)
		return err == nil
	}
	_, err := os.Lstat(filepath.Join(h.root, path))
	return err == nil
}

// Provides implements plan.Provider: host tools are unversioned.
func (h *Host) Provides(name string) []plan.Dep {
	if h.have[name] {
		return []plan.Dep{{Name: name}}
	}
	if strings.HasPrefix(name, "/") && h.exists(name) {
		return []plan.Dep{{Name: name}}
	}
	return nil
}
