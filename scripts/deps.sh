#!/usr/bin/env bash
# Installs what Quarry's demo and tests need on a Debian machine, when missing.
set -euo pipefail
need=()
for pair in rpm:rpmbuild rpm:rpmspec createrepo-c:createrepo_c dnf:dnf bubblewrap:bwrap gnupg:gpg git:git cpio:cpio zstd:zstd xz-utils:xz; do
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
