#!/usr/bin/env bash
# The VM harness's own checks (busybox-only guests, no Swift needed):
#  a) per profile, on 6.12 and 7.3: both root-bus edus bound to vfio-pci in different
#     IOMMU groups (and, on intel and amd, the two edus behind the bridge in one shared
#     group), /dev/iommu present, >= 2 entries in /dev/vfio/devices, profile exported;
#     on 7.3 also the noiommu profile (no IOMMU: noiommu-vfioN cdevs, vfio-noiommu groups);
#  a') intel on Debian's 6.1 kernel (the main job's intel-6.1): the same bindings and
#     groups, the legacy /dev/vfio/vfio container, and neither /dev/iommu nor
#     /dev/vfio/devices (iommufd is 6.2, the VFIO cdev 6.6);
#  b) a deliberate kernel panic fails the run and names the kept log;
#  c) the guest command's exit status (3) becomes vm-run's;
#  d) a hung guest command hits --timeout and is reported as a timeout;
#  e) host starvation: QEMU stopped (SIGSTOP) for 15 s while the guest command runs, with
#     the RCU stall timeout cut to 10 s, makes a real RCU CPU stall report: vm-run exits 121,
#     vm_run_rerun says "host starvation on starve: rerun" and keeps that console log, and
#     the rerun (not stopped) passes.
# Every run goes through vm_run_rerun (Scripts/lib/common.sh), as the real callers do.
# The console classifier itself is tested without a VM by Scripts/check-console-classifier.
# Exit 0 when all pass.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../Scripts/lib/common.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/swift-iommufd-selftest.XXXXXX")
export TMPDIR="$work"   # vm-run's kept work dirs (failure cases) land here too
kernel=$("$repo/vm/build-kernel.sh" --series 6.12)
"$repo/vm/mkinitramfs.sh" --out "$work/initramfs.cpio.gz"
failed=0
pass() { echo "selftest: PASS $*"; }
fail() { echo "selftest: FAIL $*"; failed=1; }
# vm-run (through vm_run_rerun) with this kernel/initramfs; stdout -> $work/$1.out,
# stderr -> $work/$1.err; sets rc.
run() {
  local name=$1; shift
  rc=0
  vm_run_rerun "$name" "$work/$name.out" - --kernel "$kernel" --initramfs "$work/initramfs.cpio.gz" "$@" \
    2>"$work/$name.err" || rc=$?
  grep -h 'boot-to-command' "$work/$name.err" | sed "s/^vm-run:/selftest: $name:/" || true
}

probe='for d in /sys/bus/pci/devices/*; do
  [ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x11e8 ] || continue
  echo "edu ${d##*/} group=$(basename "$(readlink $d/iommu_group)") driver=$(basename "$(readlink $d/driver)")"
done
[ -c /dev/iommu ] && echo iommu=yes || echo iommu=no
echo "vfio-devices=$(ls /dev/vfio/devices 2>/dev/null | wc -l)"
[ -c /dev/vfio/vfio ] && echo container=yes || echo container=no
echo "profile=$SWIFT_IOMMUFD_PROFILE"'

# One profile on one kernel: root-bus edus bound, two groups; behind the bridge (intel,
# amd): bound, one shared group. The virtio profile has no bridge (vm/profiles/virtio.sh).
check_profile() {
  local label=$1 p=$2 o groups bridged bridge_ok=yes
  run "$label" --profile "$p" --timeout 300 -- sh -c "$probe"
  o="$work/$label.out"
  groups=$(sed -n 's/^edu 0000:00:.* group=\([0-9]*\) driver=vfio-pci$/\1/p' "$o" | sort -u | wc -l)
  bridged=$(sed -n 's/^edu 0000:01:.* group=\([0-9]*\) driver=vfio-pci$/\1/p' "$o")
  if [ "$p" != virtio ]; then
    [ "$(echo "$bridged" | grep -c .)" -eq 2 ] && [ "$(echo "$bridged" | sort -u | wc -l)" -eq 1 ] || bridge_ok=no
  fi
  if [ "$rc" -eq 0 ] && [ "$(grep -c '^edu 0000:00:.*driver=vfio-pci$' "$o")" -eq 2 ] && [ "$groups" -eq 2 ] &&
     [ "$bridge_ok" = yes ] &&
     grep -qx iommu=yes "$o" && [ "$(sed -n 's/^vfio-devices=//p' "$o")" -ge 2 ] && grep -qx "profile=$p" "$o"; then
    pass "$label: root-bus edus on vfio-pci in $groups groups, $(echo "$bridged" | grep -c .) bridged edus sharing a group, $(grep vfio-devices= "$o")"
  else
    fail "$label (rc $rc):"; cat "$o" "$work/$label.err"
  fi
}
for p in intel amd virtio; do check_profile "$p-6.12" "$p"; done

# 7.3 on every IOMMU profile, and the noiommu profile: edus on vfio-pci in VFIO's
# unsafe no-IOMMU mode, with noiommu-vfioN cdevs and vfio-noiommu groups.
kernel612=$kernel
kernel=$("$repo/vm/build-kernel.sh" --series 7.3)
for p in intel amd virtio; do check_profile "$p-7.3" "$p"; done
run noiommu-7.3 --profile noiommu --timeout 300 -- sh -c "$probe"'
for d in /sys/bus/pci/devices/*/vfio-dev/*; do echo "cdev ${d##*/}"; done
for g in /sys/kernel/iommu_groups/*; do echo "group-name $(cat $g/name 2>/dev/null)"; done'
o="$work/noiommu-7.3.out"
if [ "$rc" -eq 0 ] && [ "$(grep -c '^edu 0000:0[01]:.*driver=vfio-pci$' "$o")" -eq 4 ] && grep -qx iommu=yes "$o" &&
   [ "$(grep -c '^cdev noiommu-vfio' "$o")" -ge 4 ] && ! grep -q '^cdev vfio' "$o" &&
   grep -qx 'group-name vfio-noiommu' "$o" && grep -qx profile=noiommu "$o"; then
  pass "noiommu-7.3: 4 edus on vfio-pci with noiommu-vfioN cdevs and vfio-noiommu groups, /dev/iommu present"
else
  fail "noiommu-7.3 (rc $rc):"; cat "$o" "$work/noiommu-7.3.err"
fi
kernel=$kernel612

kernel=$("$repo/vm/build-kernel.sh" --series 6.1)
run intel-6.1 --profile intel --timeout 300 -- sh -c "$probe"
o="$work/intel-6.1.out"
groups=$(sed -n 's/^edu 0000:00:.* group=\([0-9]*\) driver=vfio-pci$/\1/p' "$o" | sort -u | wc -l)
bridged=$(sed -n 's/^edu 0000:01:.* group=\([0-9]*\) driver=vfio-pci$/\1/p' "$o")
if [ "$rc" -eq 0 ] && [ "$(grep -c '^edu 0000:00:.*driver=vfio-pci$' "$o")" -eq 2 ] && [ "$groups" -eq 2 ] &&
   [ "$(echo "$bridged" | grep -c .)" -eq 2 ] && [ "$(echo "$bridged" | sort -u | wc -l)" -eq 1 ] &&
   grep -qx iommu=no "$o" && grep -qx vfio-devices=0 "$o" && grep -qx container=yes "$o" && grep -qx profile=intel "$o"; then
  pass "intel-6.1: root-bus edus on vfio-pci in $groups groups, 2 bridged edus sharing a group, /dev/vfio/vfio, no /dev/iommu, no /dev/vfio/devices"
else
  fail "intel-6.1 (rc $rc):"; cat "$o" "$work/intel-6.1.err"
fi
kernel=$kernel612

run panic --profile intel --timeout 120 -- sh -c 'echo c > /proc/sysrq-trigger; sleep 30'
keptlog=$(sed -n 's/.*kernel log kept at //p' "$work/panic.err")
if [ "$rc" -ne 0 ] && grep -q 'kernel panic' "$work/panic.err" && [ -s "$keptlog" ]; then
  pass "panic: exit $rc, log kept at $keptlog"
else fail "panic (rc $rc):"; cat "$work/panic.err"; fi

run exit3 --profile virtio --timeout 120 -- sh -c 'exit 3'
if [ "$rc" -eq 3 ]; then pass "exit status: 3"; else fail "exit status: got $rc, want 3"; cat "$work/exit3.err"; fi

run timeout --profile virtio --timeout 20 -- sleep 1000
if [ "$rc" -eq 124 ] && grep -q 'timeout after 20 s' "$work/timeout.err"; then
  pass "timeout: exit $rc"
else fail "timeout (rc $rc):"; cat "$work/timeout.err"; fi

# e) The QEMU that runs the first attempt is stopped for 15 s (each vCPU thread, as a busy
# host does to one); guest time jumps, and the first tick after it reports the stall. The
# guest command lowers the stall timeout to 10 s itself (the parameter is writable), and
# only for its own few seconds of forking (a grace period always in progress), so the
# rerun is no likelier than any other run to meet a stall of its own on a busy host.
qemu_under() {  # the QEMU processes under PID (ours: started by this script)
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    [ "$(ps -o comm= -p "$c" 2>/dev/null)" != qemu-system-x86 ] || echo "$c"
    qemu_under "$c"
  done
}
: > "$work/starve.results.txt"
( run starve --profile virtio --timeout 300 --log "$work/starve.console.log" --results "$work/starve.results.txt" \
    -- sh -c 'echo 10 > /sys/module/rcupdate/parameters/rcu_cpu_stall_timeout || exit 9; echo starve-ready
              end=$(( $(date +%s) + 6 )); while [ "$(date +%s)" -lt "$end" ]; do /bin/true; done; sleep 2
              echo 60 > /sys/module/rcupdate/parameters/rcu_cpu_stall_timeout'
  echo "$rc" > "$work/starve.rc" ) &
starver=$!
for _ in $(seq 600); do grep -q '^starve-ready' "$work/starve.results.txt" 2>/dev/null && break; sleep 0.2; done
q=$(qemu_under "$starver" | head -1)
if [ -n "$q" ]; then kill -STOP "$q"; sleep 15; kill -CONT "$q"; fi
wait "$starver" || true
rc=$(cat "$work/starve.rc" 2>/dev/null || echo "?")
starved_v=0; console_verdict "$work/starve.console.starved.log" 2>/dev/null || starved_v=$?
if [ -n "$q" ] && [ "$rc" = 0 ] && grep -q 'HOST STARVATION' "$work/starve.err" &&
   grep -q 'host starvation on starve: rerun' "$work/starve.err" && [ "$starved_v" -eq 121 ] &&
   grep -q 'rcu: INFO: .* stall' "$work/starve.console.starved.log"; then
  pass "host starvation: first run exit 121 ($(grep -c 'host starvation: call trace' "$work/starve.err") stall call traces, $(tr -d '\r' < "$work/starve.console.starved.log" | sed -n 's/.*rcu: INFO: \(.*stall[^:]*\).*/\1/p' | head -1)), rerun once, passed"
else
  fail "host starvation (qemu pid ${q:-none}, final rc $rc, kept log verdict $starved_v):"; cat "$work/starve.err"
fi

[ "$failed" -eq 0 ] && { echo "selftest: all passed"; rm -rf "$work"; } || echo "selftest: FAILED (files in $work)"
exit "$failed"
