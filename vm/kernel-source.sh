#!/usr/bin/env bash
# Prints the path of an unpacked Debian linux-source tree, fetching and
# unpacking it on first use. The tree lives in the cache, outside the checkout.
#   vm/kernel-source.sh [6.12|6.1|7.3]          -> source directory
#   vm/kernel-source.sh --version SERIES         -> the Debian package version
# A series with vm/kernel/SERIES.pin (package version and suite, e.g. 7.3 from
# trixie-backports) is fetched from that suite with a private apt state
# directory and unpacked with dpkg-deb: nothing on the system is installed or
# upgraded. Other series come from the system's own suites (apt-get install).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../Scripts/lib/common.sh"
want_version=0
[ "${1:-}" = "--version" ] && { want_version=1; shift; }
series="${1:-6.12}"
pin="$here/kernel/$series.pin"
pkg="linux-source-$series"

if [ -f "$pin" ]; then
  # shellcheck disable=SC1090
  source "$pin"   # sets pin_version and pin_suite
  [ -n "${pin_version:-}" ] && [ -n "${pin_suite:-}" ] || die "$pin must set pin_version and pin_suite"
  [ "$want_version" -eq 1 ] && { echo "$pin_version"; exit 0; }
  deb_dir="$cache/debs"
  deb="$deb_dir/${pkg}_${pin_version//:/%3a}_all.deb"
  if [ ! -f "$deb" ]; then
    fetch_from_suite "$pin_suite" "$pkg" "$pin_version" "$deb_dir" \
      || die "cannot fetch $pkg=$pin_version from suite $pin_suite (the pin is in $pin)"
  fi
  version="$pin_version"
  tarball_from() { dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$pkg.tar.xz"; }
else
  tarball="/usr/src/$pkg.tar.xz"
  if [ ! -f "$tarball" ]; then
    msg "installing $pkg (apt)"
    apt_install "$pkg" || die "cannot install $pkg; run: apt-get install $pkg"
  fi
  version=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || echo unknown)
  [ "$want_version" -eq 1 ] && { echo "$version"; exit 0; }
  tarball_from() { cat "$tarball"; }
fi

# Key the unpacked tree by the package version so an upgrade re-unpacks.
dest="$cache/src/$pkg-${version//[^A-Za-z0-9.]/_}"
if [ ! -f "$dest/.unpacked" ]; then
  need_packages xz:xz-utils
  msg "unpacking $pkg $version into $dest"
  rm -rf "$dest"; mkdir -p "$dest"
  tarball_from | tar -xJ -C "$dest" --strip-components=1
  touch "$dest/.unpacked"
fi
echo "$dest"
