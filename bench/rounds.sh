#!/bin/sh
# Runs in the guest (Scripts/bench installs it as /bin/bench-rounds). Each session starts
# the C baseline and the Swift bench side by side; they take turns through two FIFOs, one
# batch each, C first. With --control, every session is followed by one where a second
# copy of the C program (labelled "control") takes the Swift bench's place: its ratios
# are the method's own bias and noise. Several sessions, because each process gets its
# own address-space layout (ASLR), which under TCG moves costs by a percent or two.
#   bench-rounds SESSIONS ROUNDS ITERATIONS [--control]
sessions=$1 rounds=$2 iterations=$3 control=${4:-}
# Both programs on CPU 1, and new interrupts (the edus' MSIs) routed there too, so both
# sides see the same CPU, the same interrupt path and no cross-CPU wakeups.
echo 2 > /proc/irq/default_smp_affinity
# Each program holds one 2 MiB hugetlb page. 1 GiB pages need the CPU's pdpe1gb, which
# QEMU's default TCG CPU lacks (reported below).
echo 4 > /proc/sys/vm/nr_hugepages
echo "@@INFO hugepages: $(grep -E '^(MemTotal|HugePages_Total|Hugepagesize)' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
echo "@@INFO hugepage sizes: $(ls /sys/kernel/mm/hugepages | tr '\n' ' ')"
if grep -qw pdpe1gb /proc/cpuinfo; then echo "@@INFO cpu: pdpe1gb"; else echo "@@INFO cpu: no pdpe1gb (no 1 GiB pages)"; fi
echo "@@INFO clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "@@INFO kernel: $(uname -r)"

# session N SECOND-PROGRAM...: C on the first edu, the other program on the second.
session() {
  n=$1; shift
  rm -f /tmp/bench-to-c /tmp/bench-to-other
  mkfifo /tmp/bench-to-c /tmp/bench-to-other || exit 1
  taskset -c 1 iommufd-bench-c --iterations "$iterations" --rounds "$rounds" --session "$n" \
    --device 0000:00:10.0 --turns /tmp/bench-to-c,/tmp/bench-to-other --first > /tmp/bench-c.txt &
  c=$!
  taskset -c 1 "$@" --iterations "$iterations" --rounds "$rounds" --session "$n" \
    --device 0000:00:11.0 --turns /tmp/bench-to-other,/tmp/bench-to-c > /tmp/bench-other.txt
  other_rc=$?
  wait "$c"
  c_rc=$?
  cat /tmp/bench-c.txt /tmp/bench-other.txt
  [ "$c_rc" -eq 0 ] || { echo "@@BENCH-FAILED c exit $c_rc in session $n"; exit 1; }
  [ "$other_rc" -eq 0 ] || { echo "@@BENCH-FAILED $1 exit $other_rc in session $n"; exit 1; }
}

s=1
while [ "$s" -le "$sessions" ]; do
  session "$s" iommufd-bench
  # Control sessions are numbered from 1001, so their C lines stay apart from the others.
  [ "$control" = --control ] && session "$((s + 1000))" iommufd-bench-c --as control
  s=$((s + 1))
done
echo "@@BENCH-DONE"
