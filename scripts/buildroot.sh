#!/usr/bin/env bash
# Makes the stand-in buildroot images the example distribution builds in,
# one per arch, when missing: a Debian bookworm root (mmdebstrap) with gcc,
# make, rpm and the usual build tools, as a .tar.zst. It is a stand-in for
# the base distribution's own build image, which cannot be reached here;
# the README says how a real one plugs in.
#
# usage: scripts/buildroot.sh [ARCH...]   (default: x86_64 aarch64 ppc64le s390x)
#
# Images are cached by content in $QUARRY_IMAGES (default
# /var/cache/quarry/images): <arch>.tar.zst beside <arch>.recipe, the hash
# of what made it (this script, the arch, the apt sources). An image whose
# recipe is unchanged is not made again, so a machine makes each once.
# Foreign arches are made, and later built in, under qemu-user through
# binfmt_misc (scripts/binfmt.sh registers it).
#
# The image's rpm follows the image's own conventions, as a real EL
# image's does: %_libdir is Debian's multiarch folder, which its gcc and
# its loader search (an EL root's is /usr/lib64, which its own search).
set -euo pipefail

out=${QUARRY_IMAGES:-/var/cache/quarry/images}
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x86_64 aarch64 ppc64le s390x)

# The packages of every buildroot: what rpmbuild and the example's specs
# call. A real EL buildroot is its "build" group (mock's chroot_setup_cmd).
packages=rpm,rpm2cpio,debugedit,gcc,g++,make,libc6-dev,binutils,file,cpio,xz-utils,zstd,bzip2,patch,diffutils,findutils,gawk,sed,grep,tar,gzip,bash,coreutils,util-linux

sources() {
  local f
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
    [ -f "$f" ] && cat "$f"
  done
  return 0
}

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
for a in "${arches[@]}"; do
  case $a in
    x86_64) deb=amd64 triplet=x86_64-linux-gnu ;;
    aarch64) deb=arm64 triplet=aarch64-linux-gnu ;;
    ppc64le) deb=ppc64el triplet=powerpc64le-linux-gnu ;;
    s390x) deb=s390x triplet=s390x-linux-gnu ;;
    *) echo "buildroot: unknown arch $a (x86_64, aarch64, ppc64le, s390x)" >&2; exit 2 ;;
  esac
  recipe=$( { cat "$here/buildroot.sh"; echo "$a $packages"; sources; } | sha256sum | cut -d' ' -f1)
  if [ -f "$out/$a.tar.zst" ] && [ "$(cat "$out/$a.recipe" 2>/dev/null)" = "$recipe" ]; then
    continue
  fi
  if [ "$deb" != amd64 ] && [ "$(uname -m)" = x86_64 ]; then
    "$here/binfmt.sh"
  fi
  echo "buildroot: making the $a stand-in image (Debian bookworm $deb, once per machine) into $out/$a.tar.zst" >&2
  start=$(date +%s)
  rm -f "$out/$a.part.tar.zst"
  # Reproducible for a given state of the mirror: fixed times, no host
  # files (resolv.conf, hostname), no documentation.
  sources | SOURCE_DATE_EPOCH=1700000000 mmdebstrap --quiet --variant=essential --mode=root --arch="$deb" \
    --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='rm -f "$1"/etc/resolv.conf; echo buildroot > "$1"/etc/hostname; chmod 644 "$1"/etc/hostname' \
    --customize-hook='echo "127.0.0.1 localhost" > "$1"/etc/hosts' \
    --customize-hook='mkdir -p "$1"/etc/rpm "$1"/var/lib/rpm "$1"/builddir; echo "%_dbpath /var/lib/rpm" > "$1"/etc/rpm/macros.dbpath' \
    --customize-hook="echo '%_libdir %{_prefix}/lib/$triplet' > \"\$1\"/etc/rpm/macros.libdir" \
    --customize-hook='echo "%__transaction_dbus_announce %{nil}" > "$1"/etc/rpm/macros.nodbus' \
    --customize-hook='chroot "$1" rpm --initdb' \
    --customize-hook='echo "mockbuild:x:1000:1000::/builddir:/bin/bash" >> "$1"/etc/passwd; echo "mockbuild:x:1000:" >> "$1"/etc/group; chown 1000:1000 "$1"/builddir' \
    --customize-hook='find "$1" -xdev -type f -perm /6000 -exec chmod ug-s {} +' \
    --customize-hook='dpkg-query --admindir="$1"/var/lib/dpkg -W -f="\${Package}:\${Architecture}=\${Version}\n" > "$1"/etc/quarry-buildroot.manifest' \
    bookworm "$out/$a.part.tar.zst" - >&2
  mv "$out/$a.part.tar.zst" "$out/$a.tar.zst"
  echo "$recipe" > "$out/$a.recipe"
  echo "buildroot: $a made in $(( $(date +%s) - start )) s" >&2
done
