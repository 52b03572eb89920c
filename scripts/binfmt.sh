#!/usr/bin/env bash
# Registers qemu-user-static with binfmt_misc for the foreign arches, as
# mock --forcearch needs: an aarch64, ppc64le or s390x binary then runs
# under emulation, also inside a buildroot (the F flag opens the emulator
# once, here, so a root without it can use it). Idempotent.
set -euo pipefail
bf=/proc/sys/fs/binfmt_misc
if [ ! -e "$bf/register" ]; then
  mount -t binfmt_misc binfmt_misc "$bf" || { echo "binfmt: cannot mount binfmt_misc at $bf" >&2; exit 1; }
fi
for a in aarch64 ppc64le s390x; do
  [ -e "$bf/qemu-$a" ] && continue
  conf=/usr/lib/binfmt.d/qemu-$a.conf
  [ -f "$conf" ] || { echo "binfmt: $conf missing (apt-get install qemu-user-static)" >&2; exit 1; }
  grep -v '^#' "$conf" > "$bf/register" || { echo "binfmt: registering $conf failed" >&2; exit 1; }
done
