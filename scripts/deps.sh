#!/usr/bin/env bash
# Installs what Quarry's demo and tests need on a Debian machine, when missing.
set -euo pipefail
need=()
# Cross toolchains build the foreign arches; qemu-user runs their smoke tests.
for pair in rpm:rpmbuild rpm:rpmspec createrepo-c:createrepo_c dnf:dnf bubblewrap:bwrap gnupg:gpg git:git cpio:cpio zstd:zstd xz-utils:xz \
    gcc:gcc make:make gcc-aarch64-linux-gnu:aarch64-linux-gnu-gcc gcc-powerpc64le-linux-gnu:powerpc64le-linux-gnu-gcc \
    gcc-s390x-linux-gnu:s390x-linux-gnu-gcc qemu-user:qemu-aarch64 file:file skopeo:skopeo; do
  pkg=${pair%%:*} bin=${pair##*:}
  command -v "$bin" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]}" >&2
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
go mod download
