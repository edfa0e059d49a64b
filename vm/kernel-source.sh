#!/usr/bin/env bash
# Prints the path of an unpacked Debian linux-source tree, installing and
# unpacking it on first use. The tree lives in the cache, outside the checkout.
#   vm/kernel-source.sh [6.12|6.1]
set -euo pipefail
series="${1:-6.12}"
cache="${SWIFT_IOMMUFD_CACHE:-/var/cache/swift-iommufd}"
tarball="/usr/src/linux-source-${series}.tar.xz"
if [ ! -f "$tarball" ]; then
  echo "kernel-source: installing linux-source-${series} (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || { echo "kernel-source: apt-get update failed" >&2; exit 1; }
  apt-get install -y -qq --no-install-recommends "linux-source-${series}" >&2 \
    || { echo "kernel-source: cannot install linux-source-${series}; run: apt-get install linux-source-${series}" >&2; exit 1; }
fi
# Key the unpacked tree by the tarball's package version so an upgrade re-unpacks.
version=$(dpkg-query -W -f='${Version}' "linux-source-${series}" 2>/dev/null || echo unknown)
dest="$cache/src/linux-source-${series}-${version//[^A-Za-z0-9.]/_}"
if [ ! -f "$dest/.unpacked" ]; then
  echo "kernel-source: unpacking $tarball into $dest" >&2
  rm -rf "$dest"; mkdir -p "$dest"
  tar -xJf "$tarball" -C "$dest" --strip-components=1
  touch "$dest/.unpacked"
fi
echo "$dest"
