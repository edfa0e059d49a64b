#!/usr/bin/env bash
# Builds (or reuses) the guest kernel and prints the bzImage path on stdout.
#   vm/build-kernel.sh [--series 6.12|6.1|7.3]
# Progress goes to stderr. Cache: $SWIFT_IOMMUFD_CACHE/kernel/<series>-<srcver>-<hash>/
# holding bzImage, .config and build-seconds; the hash covers the config
# fragment and this script, so editing either triggers a rebuild.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../Scripts/lib/common.sh"
series=6.12
while [ $# -gt 0 ]; do
  case "$1" in
    --series) series="$2"; shift 2 ;;
    --series=*) series="${1#*=}"; shift ;;
    *) echo "build-kernel: unknown argument $1 (usage: vm/build-kernel.sh [--series 6.12|6.1|7.3])" >&2; exit 2 ;;
  esac
done
log() { msg "$@"; }

frag="$here/kernel/$series.config"
[ -f "$frag" ] || die "no config fragment $frag for series $series"

# Cache lookup first, before anything slow, so a hit returns at once. The
# source version comes from the installed package (what kernel-source.sh keys on).
srcver=$("$here/kernel-source.sh" --version "$series" 2>/dev/null || true)
key=$(cat "$frag" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12)
out="$cache/kernel/$series-${srcver//[^A-Za-z0-9.]/_}-$key"
if [ -n "$srcver" ] && [ -f "$out/bzImage" ]; then echo "$out/bzImage"; exit 0; fi

# Build tools: install what is missing (fresh machine), fail loudly otherwise.
need_packages make:make gcc:gcc flex:flex bison:bison bc:bc xz:xz-utils perl:perl
[ -f /usr/include/libelf.h ] || { apt_install libelf-dev || die "cannot install libelf-dev"; }
[ -f /usr/include/openssl/ssl.h ] || { apt_install libssl-dev || die "cannot install libssl-dev"; }

src=$("$here/kernel-source.sh" "$series")
srcver=$("$here/kernel-source.sh" --version "$series")
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
