# Shared by Scripts/* and vm/*: messages, apt installs on demand, the cache, timing.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache="${SWIFT_IOMMUFD_CACHE:-/var/cache/swift-iommufd}"
msg() { echo "[$(basename "$0")] $*" >&2; }
die() { echo "[$(basename "$0")] ERROR: $*" >&2; exit 1; }

# apt_install PKG...: installs from the system's suites, refreshing the lists once on failure.
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$@" >&2 ||
    { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "$@" >&2; }
}

# need_packages CMD:PKG ...: installs each PKG whose CMD is missing (fresh machines).
need_packages() {
  local missing=() pair
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  msg "installing ${missing[*]} (apt)"
  apt_install "${missing[@]}" || die "cannot install ${missing[*]}; run: apt-get update && apt-get install ${missing[*]}"
}

# debian_mirror: the Debian archive URI this machine's own apt sources use
# (so the repo names no mirror host).
debian_mirror() {
  { sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null
    sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
  } | tr ' ' '\n' | grep -E '/debian/?$' | head -1
}

# fetch_from_suite SUITE PKG VERSION DIR: downloads PKG=VERSION's .deb from
# another Debian suite into DIR with a private sources list and state
# directory; the system's apt state and packages are not touched.
fetch_from_suite() {
  local suite=$1 pkg=$2 version=$3 dir=$4 mirror state
  mirror=$(debian_mirror)
  [ -n "$mirror" ] || { msg "no Debian archive URI in /etc/apt sources"; return 1; }
  state="$cache/apt/$suite"
  mkdir -p "$state/lists/partial" "$state/archives/partial" "$dir"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" > "$state/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$state/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
              -o "Dir::State::Lists=$state/lists" -o "Dir::State::Status=/var/lib/dpkg/status"
              -o "Dir::Cache=$state" -o "Dir::Cache::Archives=$state/archives" -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
  msg "fetching $pkg=$version from suite $suite (private apt state in $state)"
  apt-get "${opts[@]}" -qq update >&2 || { msg "apt-get update for suite $suite failed"; return 1; }
  (cd "$dir" && apt-get "${opts[@]}" -qq download "$pkg=$version" >&2) ||
    { msg "$pkg=$version is not in suite $suite (apt-cache policy: $(apt-cache "${opts[@]}" policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p'))"; return 1; }
}

# bzimage_release FILE: the kernel release a bzImage carries ("7.3.4"), from its setup
# header ("HdrS" at 0x202, kernel_version pointer at 0x20e, +0x200); empty if not a bzImage.
bzimage_release() {
  local ptr="" rel=""
  [ "$(od -An -tx1 -j514 -N4 "$1" 2>/dev/null)" = " 48 64 72 53" ] || return 0
  ptr=$(od -An -tu2 -j526 -N2 "$1" 2>/dev/null) || return 0
  ptr=${ptr//[!0-9]/}
  [ -n "$ptr" ] || return 0
  IFS= read -r -d '' rel < <(dd if="$1" bs=1 skip=$((ptr + 512)) count=64 2>/dev/null) || true
  echo "${rel%% *}"
}

need_swift() {
  command -v swift >/dev/null 2>&1 || die "swift not found on PATH (Swift 6 toolchain required, e.g. /opt/swift/usr/bin)"
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
