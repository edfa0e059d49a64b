#!/bin/sh
# Guest PID 1 (busybox sh). Sets up the filesystems, binds the DMA test
# devices to vfio-pci, runs the command from /run-cmd with its output on the
# results channel (ttyS1), writes the exit marker and powers off.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/tmp

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The initramfs has no /dev/console, so the kernel gave us no stdio: take it now.
exec </dev/console >/dev/console 2>&1
mount -t debugfs debugfs /sys/kernel/debug
mkdir -p /dev/hugepages /tmp /run
mount -t hugetlbfs hugetlbfs /dev/hugepages
mount -t tmpfs tmpfs /tmp
echo 64 > /proc/sys/vm/nr_hugepages
# fail-nth tests would otherwise print a stack trace per injected failure,
# which the host's log scan would report as a kernel problem.
for f in failslab fail_page_alloc fail_iommufd; do
  [ -w /sys/kernel/debug/$f/verbose ] && echo 0 > /sys/kernel/debug/$f/verbose
done

for w in $(cat /proc/cmdline); do
  case "$w" in swiftiommufd.profile=*) export SWIFT_IOMMUFD_PROFILE="${w#*=}" ;; esac
done

# Hand every DMA test device (edu, e1000e, nvme) to vfio-pci.
for d in /sys/bus/pci/devices/*; do
  case "$(cat $d/vendor):$(cat $d/device)" in
    0x1234:0x11e8|0x8086:0x10d3|0x1b36:0x0010) ;;
    *) continue ;;
  esac
  bdf=${d##*/}
  echo vfio-pci > $d/driver_override
  [ -e $d/driver ] && echo $bdf > $d/driver/unbind
  echo $bdf > /sys/bus/pci/drivers_probe
  echo "init: $bdf $(cat $d/vendor):$(cat $d/device) driver=$(basename "$(readlink $d/driver)") group=$(basename "$(readlink $d/iommu_group)")"
done

# Results channel: raw, so the host sees exactly the bytes written.
stty -F /dev/ttyS1 raw -echo
exec 3>/dev/ttyS1
echo "@@SWIFT-IOMMUFD-START $(cut -d' ' -f1 /proc/uptime)@@" >&3
if [ -f /run-cmd ]; then
  (cd /tmp && sh /run-cmd) </dev/null >&3 2>&3
  status=$?
else
  echo "init: no /run-cmd in the initramfs" >&3
  status=127
fi
echo "@@SWIFT-IOMMUFD-EXIT $status@@" >&3
# The last close of the tty waits until its output has drained.
exec 3>&-
echo "init: command exited $status; powering off"
sync
poweroff -f
