#!/bin/sh
# Runs in the guest (Scripts/bench installs it as /bin/bench-rounds): the C baseline and
# the Swift bench side by side, taking turns through two FIFOs, one batch each (C first),
# each on its own edu (identical devices: a cdev binds to one iommufd at a time). Then
# their results, and what the report needs to know about the machine.
#   bench-rounds ROUNDS ITERATIONS
rounds=$1 iterations=$2
# Each program holds one 2 MiB hugetlb page. 1 GiB pages need the CPU's pdpe1gb, which
# QEMU's default TCG CPU lacks (reported below).
echo 4 > /proc/sys/vm/nr_hugepages
echo "@@INFO hugepages: $(grep -E '^(MemTotal|HugePages_Total|Hugepagesize)' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
echo "@@INFO hugepage sizes: $(ls /sys/kernel/mm/hugepages | tr '\n' ' ')"
if grep -qw pdpe1gb /proc/cpuinfo; then echo "@@INFO cpu: pdpe1gb"; else echo "@@INFO cpu: no pdpe1gb (no 1 GiB pages)"; fi
echo "@@INFO clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "@@INFO kernel: $(uname -r)"
mkfifo /tmp/bench-to-swift /tmp/bench-to-c || exit 1
iommufd-bench-c --iterations "$iterations" --rounds "$rounds" --device 0000:00:10.0 \
  --turns /tmp/bench-to-c,/tmp/bench-to-swift --first > /tmp/bench-c.txt &
c=$!
iommufd-bench --iterations "$iterations" --rounds "$rounds" --device 0000:00:11.0 \
  --turns /tmp/bench-to-swift,/tmp/bench-to-c > /tmp/bench-swift.txt
swift_rc=$?
wait "$c"
c_rc=$?
cat /tmp/bench-c.txt /tmp/bench-swift.txt
[ "$c_rc" -eq 0 ] || { echo "@@BENCH-FAILED c exit $c_rc"; exit 1; }
[ "$swift_rc" -eq 0 ] || { echo "@@BENCH-FAILED swift exit $swift_rc"; exit 1; }
echo "@@BENCH-DONE"
