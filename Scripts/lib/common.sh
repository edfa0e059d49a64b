# Shared by Scripts/*: messages, apt installs on demand, timing.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
msg() { echo "[$(basename "$0")] $*" >&2; }
die() { echo "[$(basename "$0")] ERROR: $*" >&2; exit 1; }

# need_packages CMD:PKG ...: installs each PKG whose CMD is missing (fresh machines).
need_packages() {
  local missing=() pair
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  msg "installing ${missing[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; }; } ||
    die "cannot install ${missing[*]}; run: apt-get update && apt-get install ${missing[*]}"
}

need_swift() {
  command -v swift >/dev/null 2>&1 || die "swift not found on PATH (Swift 6 toolchain required, e.g. /opt/swift/usr/bin)"
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
