#!/usr/bin/env bash
# Installs what Quarry's demo and tests need on a Debian machine, when
# missing. Each line of the table is a Debian package, what shows it is
# there (a command on PATH, or an absolute path: a header or a library),
# and why Quarry needs it. Recommends are never relied on: a piece that
# only comes as a Recommends is its own line.
set -euo pipefail

table='
rpm              rpmbuild                                               builds SRPMs and RPMs (rpmbuild, rpmspec, rpmkeys, rpm2cpio)
createrepo-c     createrepo_c                                           the repodata baseline the compose tests and benchmarks compare against
dnf              dnf                                                    installs the published repositories into an installroot (tests, cloud image)
bubblewrap       bwrap                                                  the sandbox every build job and plugin runs in
util-linux       prlimit                                                process and file-size limits of jobs and plugins
gnupg            gpg                                                    signing.gpg_key and the key tests
git              git                                                    dist-git and patch repositories
cpio             cpio                                                   unpacks RPM payloads in tests
zstd             zstd                                                   RPM payload compression
xz-utils         xz                                                     RPM payload compression
bzip2            bzip2                                                  SRPM payloads compressed with bzip2
file             file                                                   rpmbuild classifies packaged files with it
gcc              gcc                                                    the x86_64 C compiler
libc6-dev        /usr/include/stdio.h                                   the x86_64 C library headers
make             make                                                   builds the example packages
gcc-aarch64-linux-gnu      aarch64-linux-gnu-gcc                        the aarch64 cross compiler
libc6-dev-arm64-cross      /usr/aarch64-linux-gnu/include/bits/libc-header-start.h   the aarch64 C library (headers, crt, libc.so) for cross builds
gcc-powerpc64le-linux-gnu  powerpc64le-linux-gnu-gcc                    the ppc64le cross compiler
libc6-dev-ppc64el-cross    /usr/powerpc64le-linux-gnu/include/bits/libc-header-start.h   the ppc64le C library for cross builds
gcc-s390x-linux-gnu        s390x-linux-gnu-gcc                          the s390x cross compiler
libc6-dev-s390x-cross      /usr/s390x-linux-gnu/include/bits/libc-header-start.h     the s390x C library for cross builds
qemu-user        qemu-aarch64                                           runs binaries of the foreign arches in the smoke tests
qemu-user-static /usr/libexec/qemu-binfmt/aarch64-binfmt-P              runs the buildroots of the foreign arches through binfmt_misc (scripts/binfmt.sh)
mmdebstrap       mmdebstrap                                             makes the stand-in buildroot images (scripts/buildroot.sh)
arch-test        arch-test                                              lets mmdebstrap make a foreign arch root (it checks the arch runs, under qemu)
skopeo           skopeo                                                 checks the cloud SIG OCI image in tests
chromium         chromium                                               the real browser the console tests drive (chromedp)
fonts-dejavu-core /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf       a font for the console screenshots
'

present() {
  case $1 in
    /*) [ -e "$1" ] ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

need=()
while read -r pkg probe why; do
  [ -n "$pkg" ] || continue
  if ! present "$probe"; then
    echo "deps: installing $pkg ($why; $probe is missing)" >&2
    need+=("$pkg")
  fi
done <<<"$table"

if [ ${#need[@]} -gt 0 ]; then
  SUDO=
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps: not root and no sudo: install ${need[*]} by hand" >&2; exit 1; }
    SUDO=sudo
  fi
  command -v apt-get >/dev/null 2>&1 || { echo "deps: apt-get not found (not Debian?): install the Debian packages ${need[*]} or their equivalents" >&2; exit 1; }
  $SUDO apt-get update -qq || { echo "deps: apt-get update failed" >&2; exit 1; }
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
    echo "deps: apt-get install failed for: ${need[*]}" >&2
    exit 1
  fi
  # Every probe must pass now: a package that installed without what we
  # probe for (renamed, split) is named here rather than failing a build.
  missing=0
  while read -r pkg probe why; do
    [ -n "$pkg" ] || continue
    present "$probe" || { echo "deps: $pkg is installed but $probe is still missing ($why)" >&2; missing=1; }
  done <<<"$table"
  [ $missing -eq 0 ] || exit 1
fi

# Both modules: the core and the SDK (sdk/, its own module a SIG depends on).
for m in . sdk; do
  (cd "$m" && go mod download) || { echo "deps: go mod download in $m failed (is the Go module proxy reachable?)" >&2; exit 1; }
done
