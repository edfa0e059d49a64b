#!/usr/bin/env bash
# Builds the guest initramfs: busybox-static (+ applet symlinks), vm/init.sh as
# /init, the given binaries in /bin and every shared library ldd lists for
# them (at the same paths). gzip'd newc, reproducible (fixed mtimes, sorted).
#   vm/mkinitramfs.sh --out FILE [BINARY...]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../Scripts/lib/common.sh"
out=""
bins=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --out=*) out="${1#*=}"; shift ;;
    -*) die "unknown option $1 (usage: vm/mkinitramfs.sh --out FILE [BINARY...])" ;;
    *) bins+=("$1"); shift ;;
  esac
done
[ -n "$out" ] || die "--out FILE is required"

# Tools: busybox must be the static build (the guest has no libc of its own).
pkgs="busybox-static cpio gzip"
static_busybox() { [ -x /bin/busybox ] && { ldd /bin/busybox 2>&1 || true; } | grep -q 'not a dynamic'; }
need_packages ldd:libc-bin
if ! command -v cpio >/dev/null || ! command -v gzip >/dev/null || ! static_busybox; then
  msg "installing $pkgs"
  # shellcheck disable=SC2086
  apt_install $pkgs || die "cannot install; run: apt-get install -y --no-install-recommends $pkgs"
  static_busybox || die "/bin/busybox is not static; run: apt-get install busybox-static"
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,root}
cp /bin/busybox "$stage/bin/busybox"
for a in $(/bin/busybox --list-full); do
  [ -e "$stage/$a" ] || ln -s /bin/busybox "$stage/$a"
done
install -m 755 "$here/init.sh" "$stage/init"

for b in "${bins[@]}"; do
  [ -f "$b" ] || die "no such binary: $b"
  install -m 755 "$b" "$stage/bin/$(basename "$b")"
  # Every absolute path ldd prints (libs and the loader), copied keeping its path.
  for lib in $(ldd "$b" 2>/dev/null | grep -oE '/[^ )]+' || true); do
    [ -e "$stage$lib" ] || cp -L --parents "$lib" "$stage"
  done
done

# Reproducible archive: fixed timestamps, sorted names, root ownership.
find "$stage" -exec touch -h -d @0 {} +
mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
  cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -n -1 > "$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $out ($(stat -c %s "$out") bytes, ${#bins[@]} extra binaries)" >&2
