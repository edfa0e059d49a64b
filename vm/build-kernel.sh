#!/usr/bin/env bash
# Builds (or reuses) the guest kernel and prints the bzImage path on stdout.
#   vm/build-kernel.sh [--series 6.12|6.1]
# Progress goes to stderr. Cache: $SWIFT_IOMMUFD_CACHE/kernel/<series>-<srcver>-<hash>/
# holding bzImage, .config and build-seconds; the hash covers the config
# fragment and this script, so editing either triggers a rebuild.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
series=6.12
while [ $# -gt 0 ]; do
  case "$1" in
    --series) series="$2"; shift 2 ;;
    --series=*) series="${1#*=}"; shift ;;
    *) echo "build-kernel: unknown argument $1 (usage: vm/build-kernel.sh [--series 6.12|6.1])" >&2; exit 2 ;;
  esac
done
log() { echo "build-kernel: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

frag="$here/kernel/$series.config"
[ -f "$frag" ] || die "no config fragment $frag for series $series"
cache="${SWIFT_IOMMUFD_CACHE:-/var/cache/swift-iommufd}"

# Cache lookup first, before anything slow, so a hit returns at once. The
# source version comes from the installed package (what kernel-source.sh keys on).
srcver=$(dpkg-query -W -f='${Version}' "linux-source-$series" 2>/dev/null || true)
key=$(cat "$frag" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12)
out="$cache/kernel/$series-${srcver//[^A-Za-z0-9.]/_}-$key"
if [ -n "$srcver" ] && [ -f "$out/bzImage" ]; then echo "$out/bzImage"; exit 0; fi

# Build tools: install what is missing (fresh machine), fail loudly otherwise.
pkgs="make gcc libc6-dev flex bison bc libelf-dev libssl-dev xz-utils"
missing=()
for t in make gcc flex bison bc xz; do command -v "$t" >/dev/null || missing+=("$t"); done
[ -f /usr/include/libelf.h ] || missing+=(libelf-dev)
[ -f /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
if [ ${#missing[@]} -gt 0 ]; then
  log "missing ${missing[*]}; installing: apt-get install -y --no-install-recommends $pkgs"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -qq --no-install-recommends $pkgs >&2 ||
    { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends $pkgs >&2; }; } ||
    die "cannot install build tools; run: apt-get update && apt-get install -y --no-install-recommends $pkgs"
fi

src=$("$here/kernel-source.sh" "$series")
srcver=$(dpkg-query -W -f='${Version}' "linux-source-$series")
out="$cache/kernel/$series-${srcver//[^A-Za-z0-9.]/_}-$key"
mkdir -p "$cache/kernel"
# One builder per cache entry; a second caller waits and then gets the hit.
exec 9>"$out.lock"
flock 9
if [ -f "$out/bzImage" ]; then echo "$out/bzImage"; exit 0; fi

build="$out.build"   # out-of-tree objects: the source tree stays clean
# Same inputs, same bzImage: no build date/user/host baked into the version.
export KBUILD_BUILD_TIMESTAMP="1970-01-01 00:00:00 UTC" KBUILD_BUILD_USER=swift-iommufd KBUILD_BUILD_HOST=vm
rm -rf "$build"; mkdir -p "$build"
start=$(date +%s)
log "configuring $src (tinyconfig + $frag) in $build"
make -s -C "$src" O="$build" tinyconfig >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$build" "$build/.config" "$frag" >/dev/null
make -s -C "$src" O="$build" olddefconfig >&2

# Kconfig silently drops options whose dependencies are unmet: verify each one.
bad=()
while IFS= read -r opt; do
  grep -qx "$opt=y" "$build/.config" || bad+=("$opt ($(grep -E "^($opt=|# $opt is not set)" "$build/.config" || echo absent))")
done < <(sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=y$/\1/p' "$frag")
if [ ${#bad[@]} -gt 0 ]; then
  printf 'build-kernel: ERROR: not =y after olddefconfig: %s\n' "${bad[@]}" >&2
  exit 1
fi
log "config ok: $(grep -c '=y$' "$build/.config") options =y; building bzImage with -j$(nproc)"

# Build in the background and report the object count every 30 s.
make -C "$src" O="$build" -j"$(nproc)" bzImage >"$build/make.log" 2>&1 &
pid=$!
n=0
while kill -0 "$pid" 2>/dev/null; do
  sleep 1; n=$((n + 1))
  if [ $((n % 30)) -eq 0 ]; then
    log "$(( $(date +%s) - start )) s: $(find "$build" -name '*.o' | wc -l) objects built"
  fi
done
if ! wait "$pid"; then
  tail -n 40 "$build/make.log" >&2
  die "make bzImage failed; full log: $build/make.log"
fi
secs=$(( $(date +%s) - start ))

rm -rf "$out.tmp"; mkdir -p "$out.tmp"
cp "$build/arch/x86/boot/bzImage" "$build/.config" "$out.tmp/"
echo "$secs" > "$out.tmp/build-seconds"
rm -rf "$out"; mv "$out.tmp" "$out"
rm -rf "$build"
log "cold kernel build: $secs s ($(stat -c %s "$out/bzImage") bytes)"
echo "$out/bzImage"
