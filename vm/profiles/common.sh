# Sourced by Scripts/vm-run after the profile file. Devices every profile gets,
# at fixed addresses so BDFs are stable: two edu (separate IOMMU groups, 64-bit
# DMA mask so kernel-chosen IOVAs work), an e1000e and an nvme on a null drive.
# All four are bound to vfio-pci by vm/init.sh.
#   00:10.0 edu   00:11.0 edu   00:12.0 e1000e   00:13.0 nvme
# plus two edu behind a PCIe-to-PCI bridge at 00:14.0 (01:01.0, 01:02.0): their DMA
# aliases to the bridge, so they share one IOMMU group (intel, amd, noiommu; not on
# virtio, where QEMU 7.2 cannot probe them and 7.x then drops the whole IOMMU: see
# virtio.sh and docs/virtio-iommu-7.3.md).
COMMON_QEMU_ARGS=(
  -m 2G -smp 2 -accel tcg -nographic -nodefaults -no-reboot
  -device edu,addr=10.0,dma_mask=0xffffffffffffffff
  -device edu,addr=11.0,dma_mask=0xffffffffffffffff
  -device e1000e,addr=12.0
  -blockdev null-co,node-name=nvme0,size=67108864
  -device nvme,addr=13.0,serial=swiftiommufd,drive=nvme0
)
# A profile sets PROFILE_NO_BRIDGE=1 when its IOMMU cannot take the bridge (virtio).
[ -n "${PROFILE_NO_BRIDGE:-}" ] || COMMON_QEMU_ARGS+=(
  -device pcie-pci-bridge,id=br0,addr=14.0
  -device edu,bus=br0,addr=1.0,dma_mask=0xffffffffffffffff
  -device edu,bus=br0,addr=2.0,dma_mask=0xffffffffffffffff
)
# What a TCG guest on a busy, shared 2-core host needs (issue 11, item 5). Each vCPU is
# a host thread that can go unscheduled for tens of seconds; the guest then sees time
# jump on that CPU. Sources: the unpacked linux-source trees of 6.1.192, 6.12.117, 7.3.4.
#  rcupdate.rcu_cpu_stall_timeout=60: the RCU CPU stall warning after 60 s instead of
#    CONFIG_RCU_CPU_STALL_TIMEOUT=21 (our .configs), past the ~21 s starvations seen on
#    this host, yet under the suite's 120 s case timeout, so a CPU really stuck in the
#    kernel is still reported while its case runs. A module parameter of the built-in
#    RCU (kernel/rcu/update.c 6.1:508, 6.12:554, 7.3:576), clamped to 3..300
#    (kernel/rcu/tree_stall.h rcu_jiffies_till_stall_check, 6.1:68, 6.12:71, 7.3:122);
#    expedited stalls follow it, as rcupdate.rcu_exp_cpu_stall_timeout is 0
#    (tree_stall.h rcu_exp_jiffies_till_stall_check, 6.1:35, 6.12:38, 7.3:89). Not
#    rcu_cpu_stall_suppress: that would hide real stalls too. A stall report that still
#    comes is classified as host starvation by vm-run (console_problems in
#    Scripts/lib/common.sh) and rerun once.
#  Not tsc=nowatchdog (tried, dropped): the clocksource watchdog is what rescues a TSC
#    that was calibrated wrong on a busy host. In a conformance run beside two busy loops
#    amd-6.12 logged "tsc: PIT calibration deviates from HPET: 314638 2444604" and took
#    the PIT value (arch/x86/kernel/tsc.c 6.12:896-899); the 1 s refinement against the
#    HPET then refuses to move it more than 1% (tsc.c 6.1:1377, 6.12:1379, 7.3:1363), and
#    with the watchdog off (tsc=nowatchdog: tsc.c 6.12:327, 1560) the guest clock ran 7.8x
#    fast (725 s of guest time in 104 s). With it on, such a TSC is marked unstable
#    (kernel/time/clocksource.c 6.1:499, 6.12:520, 7.3:582) and the guest moves to the
#    HPET. Its complaints on long gaps ("Long readout interval, skipping watchdog check",
#    "Watchdog remote CPU 1 read timed out") are informational lines, not failures.
#  no_timer_check: no boot-time check that the IO-APIC timer ticks. timer_irq_works
#    (arch/x86/kernel/apic/io_apic.c 6.1:1622, 6.12:1519, 7.3:1519) waits 40e9/HZ TSC
#    cycles (~65 ms of host time here) for more than 4 jiffies; a host that does not run
#    QEMU's timers for those 65 ms fails it, and with interrupt remapping on the kernel
#    panics: "timer doesn't work through Interrupt-remapped IO-APIC" (io_apic.c 6.1:2237,
#    6.12:2129, 7.3:2127). That is what amd-6.12 did at 0.03 s in a Scripts/conformance
#    run beside two busy loops. Guests the kernel knows to be virtual skip the check
#    themselves (arch/x86/kernel/kvm.c 6.1:316, 6.12:344, 7.3:354; vmware.c, mshyperv.c);
#    a TCG guest is not recognised as one. A timer that really does not tick would still
#    show, later in the boot (vm-run: timeout or no exit status). The parameter:
#    io_apic.c __setup, 6.1:1575, 6.12:1473, 7.3:1473.
# Not needed: nosoftlockup/nowatchdog/watchdog_thresh/hung_task_timeout_secs. Our
# kernels build no soft/hard lockup, hung task or workqueue watchdog (the cached
# .configs: "# CONFIG_SOFTLOCKUP_DETECTOR is not set", HARDLOCKUP_DETECTOR,
# DETECT_HUNG_TASK, WQ_WATCHDOG likewise; kernel/watchdog.c is only built with
# CONFIG_LOCKUP_DETECTOR), so those parameters would be unknown, and the kernel hands
# unknown parameters to /init as arguments (init/main.c unknown_bootoption). A
# "BUG: soft lockup" from a --kernel image that has the detector stays a failure.
COMMON_KERNEL_ARGS="console=ttyS0 rdinit=/init panic=-1 rcupdate.rcu_cpu_stall_timeout=60 no_timer_check"
