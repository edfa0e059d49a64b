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

# ---- Reading a guest console log: kernel problem, host starvation or clean -------------
# Scripts/vm-run's verdict on a run comes from here, and Scripts/check-console-classifier
# tests it on the canned logs in vm/testdata/console/ without booting anything.
#
# console_problems LOG: every kernel-problem line of a console log (the lines matching
# Kernel panic|Oops|WARNING:|BUG:|general protection fault|Call Trace), one per output line
# as "LINE<TAB>KIND<TAB>TEXT". KIND is "kernel panic", "kernel Oops", "kernel WARNING",
# "kernel BUG", "general protection fault" or "kernel call trace", except for a Call Trace
# inside an RCU CPU stall report, which is "host starvation".
#
# Why: under TCG each vCPU is a host thread, and on a busy host one can go unscheduled for
# longer than the RCU CPU stall timeout. The other vCPU then prints an RCU stall report
# (kernel/rcu/tree_stall.h print_other_cpu_stall/print_cpu_stall, tree_exp.h for expedited
# grace periods): a "rcu: INFO: <flavor> detected stalls on CPUs/tasks:" / "self-detected
# stall on CPU" / "detected expedited stalls on CPUs/tasks:" header, per-CPU lines, then
# stack dumps of the stalled CPUs (dump_cpu_task: an NMI backtrace, or "Task dump for CPU N"
# and sched_show_task) and of the grace-period kthread ("task:rcu_sched ..."), each with a
# "Call Trace:". None of that is a kernel bug. A report lasts while its lines are ones such a
# report prints ("rcu: ..." lines, NMI and task dump headers, the "CPU: N ..." identity line,
# register and Code: lines, indented stack frames, and arch/x86/kernel/nmi.c's "INFO: NMI
# handler (nmi_cpu_backtrace_handler) took too long to run", which a backtrace under TCG
# prints), or the other notices the same time jump makes at the same moment and that
# never come with a stack dump of their own (kernel/time/clocksource.c "clocksource: Long
# readout interval ..." and its TSC verdicts, arch/x86/kernel/tsc.c, kernel/sched/clock.c,
# kernel/time/hrtimer.c "hrtimer: interrupt took", kernel/sched/deadline.c "sched: DL
# replenish lagged": none of those files dumps a stack); any other line ends it. So a WARNING, BUG,
# Oops, panic or GPF is never starvation (its header line is not report vocabulary), and
# neither is a Call Trace after an unrelated line. A stall that a real kernel bug causes (a
# CPU looping with preemption off) looks the same, which is why callers rerun a starved run
# only once (vm_run_rerun): a repeatable stall comes back and fails.
console_problems() {
  tr -d '\r' < "$1" | awk '
    { line = $0; sub(/^\[ *[0-9]+\.[0-9]+\] /, "", line); sub(/^\[ *[CT][0-9]+\] /, "", line) }
    line ~ /^rcu: INFO: [a-z_]+ (detected stalls on CPUs\/tasks:|self-detected stall on CPU|detected expedited stalls on CPUs\/tasks:)/ {
      stall = 1
    }
    stall && !(line ~ /^rcu: / || line ~ /^[ \t]/ || line ~ /^Call Trace:/ ||
               line ~ /^(Sending NMI from CPU |NMI backtrace for cpu |After [0-9]+ seconds, these CPUS still|Task dump for CPU |task:)/ ||
               line ~ /^(CPU: [0-9]+ |Hardware name: |Tainted: |Workqueue: |Stopper: |Code: )/ ||
               line ~ /^(RIP|RSP|RAX|RDX|RBP|R10|R13|FS|CS|CR2|DR0|DR3|PKRU): / ||
               line ~ /^INFO: NMI handler \([a-z_]+\) took too long to run/ ||
               line ~ /^(clocksource|tsc|sched_clock|hrtimer): / || line ~ /^TSC found unstable after boot/ ||
               line ~ /^sched: DL replenish lagged/ ||
               line ~ /^\*\* [0-9]+ printk messages dropped \*\*/) { stall = 0 }
    /Kernel panic|Oops|WARNING:|BUG:|general protection fault|Call Trace/ {
      if (stall && line ~ /^Call Trace:/) kind = "host starvation"
      else if (/Kernel panic/) kind = "kernel panic"
      else if (/Oops/) kind = "kernel Oops"
      else if (/WARNING:/) kind = "kernel WARNING"
      else if (/BUG:/) kind = "kernel BUG"
      else if (/general protection fault/) kind = "general protection fault"
      else kind = "kernel call trace"
      printf "%d\t%s\t%s\n", NR, kind, $0
    }'
}

# console_verdict LOG: 0 when the console log has no kernel-problem line, 121 when its only
# ones are host starvation (see console_problems), 120 otherwise. Prints nothing.
console_verdict() {
  local problems
  problems=$(console_problems "$1" | cut -f2)
  [ -n "$problems" ] || return 0
  echo "$problems" | grep -qvx 'host starvation' && return 120
  return 121
}

# vm_exit_meaning RC: what a Scripts/vm-run exit status other than the guest command's means.
vm_exit_meaning() {
  case "$1" in
    120) echo "kernel problem in the console log" ;;
    121) echo "host starvation (RCU stall reports only), twice in a row" ;;
    124) echo "timeout" ;;
    125) echo "no exit status from the guest" ;;
    2) echo "vm-run usage or missing dependency" ;;
    *) echo "guest command exit $1" ;;
  esac
}

# vm_run_rerun LABEL OUT ERR VM-RUN-ARGS...: Scripts/vm-run VM-RUN-ARGS with its stdout to
# the file OUT and its stderr appended to the file ERR ("-" keeps this script's own). When
# vm-run reports host starvation (exit 121: the console's only trace reports are RCU stall
# reports of a starved vCPU) it says "host starvation on LABEL: rerun", keeps that console
# log as <log>.starved.log (with --log), and runs it once more, OUT and --log/--results
# starting afresh. Returns the last run's status: a second starvation in a row is 121 again,
# which callers fail on like any other harness failure.
vm_run_rerun() {
  local label=$1 out=$2 err=$3 rc attempt log="" prev="" a
  shift 3
  for a in "$@"; do
    [ "$a" != -- ] || break
    [ "$prev" != --log ] || log=$a
    prev=$a
  done
  [ "$err" = - ] || : > "$err"
  for attempt in 1 2; do
    rc=0
    ( [ "$out" = - ] || exec >"$out"; [ "$err" = - ] || exec 2>>"$err"; exec "$repo/Scripts/vm-run" "$@" ) || rc=$?
    [ "$rc" -eq 121 ] && [ "$attempt" -eq 1 ] || break
    msg "host starvation on $label: rerun"
    [ -z "$log" ] || cp "$log" "${log%.log}.starved.log"
  done
  [ "$rc" -ne 121 ] || msg "host starvation on $label again on the rerun: failing"
  return "$rc"
}
