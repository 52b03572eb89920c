#!/usr/bin/env bash
# Installs a published core (BaseOS, AppStream, CRB: every package, arch
# and noarch) into an empty root per arch with dnf, checking package and
# repomd signatures against KEY, then runs greet in each root with chroot
# and prints what it says: natively on x86_64, under qemu-user through
# binfmt_misc for the other arches (scripts/binfmt.sh registers it).
#
# usage: scripts/try-install.sh PUBLICATION KEY [DIR [ARCH...]]
#   PUBLICATION  a published tree, e.g. out/current
#   KEY          the core's public key to trust, e.g. .quarry/keys/RPM-GPG-KEY-pebble
#   DIR          where the roots go (default /tmp/quarry-try): DIR/<arch>/root
#   ARCH         default: every arch the publication has of x86_64 aarch64 ppc64le s390x
set -euo pipefail

[ $# -ge 2 ] || { sed -n '8,12s/^# \{0,1\}//p' "$0" >&2; exit 2; }
pub=$(realpath "$1")
key=$(realpath "$2")
dir=${3:-/tmp/quarry-try}
shift $(( $# < 3 ? $# : 3 ))
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x86_64 aarch64 ppc64le s390x)
[ -d "$pub/repos/BaseOS" ] || { echo "try-install: $pub has no repos/BaseOS: not a publication" >&2; exit 2; }
[ -f "$key" ] || { echo "try-install: no key $key" >&2; exit 2; }

chroot=$(PATH=$PATH:/usr/sbin:/sbin command -v chroot) || { echo "try-install: no chroot" >&2; exit 2; }
fail=0
for a in "${arches[@]}"; do
  if [ ! -d "$pub/repos/BaseOS/$a" ]; then
    [ $# -eq 0 ] && continue
    echo "try-install: $pub has no $a repositories" >&2; fail=1; continue
  fi
  if [ "$a" != "$(uname -m)" ] && [ ! -e "/proc/sys/fs/binfmt_misc/qemu-$a" ]; then
    echo "try-install: qemu-$a is not registered with binfmt_misc (scripts/binfmt.sh)" >&2; fail=1; continue
  fi
  work=$dir/$a
  rm -rf "$work/root" "$work/cache"
  mkdir -p "$work/repos.d"
  : > "$work/repos.d/try.repo"
  for r in BaseOS AppStream CRB; do
    [ -d "$pub/repos/$r/$a" ] || continue
    printf '[try-%s]\nname=%s %s\nbaseurl=file://%s\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file://%s\n\n' \
      "$r" "$r" "$a" "$pub/repos/$r/$a" "$key" >> "$work/repos.d/try.repo"
  done
  printf '[main]\ncachedir=%s\n' "$work/cache" > "$work/dnf.conf"
  start=$(date +%s%N)
  if ! out=$(dnf -y --config "$work/dnf.conf" --installroot "$work/root" --releasever 9 --forcearch "$a" \
      --setopt=reposdir="$work/repos.d" --setopt=install_weak_deps=0 install '*' 2>&1); then
    printf '%s\n' "$out" >&2
    echo "try-install: $a: dnf failed" >&2; fail=1; continue
  fi
  n=$(rpm --root "$work/root" -qa | grep -vc '^gpg-pubkey-')
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "$a: $n packages installed into $work/root in $ms ms; chroot $work/root greet:"
  if ! said=$(env -i PATH=/usr/bin:/bin "$chroot" "$work/root" greet 2>&1); then
    printf '%s\n' "$said" >&2
    echo "try-install: $a: greet failed" >&2; fail=1; continue
  fi
  echo "$a: $said"
done
exit $fail
