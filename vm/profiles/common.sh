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
# no_timer_check: under TCG on a busy host the early IO-APIC timer test can miss its
# ticks, and with interrupt remapping (intel, amd) the kernel then panics "timer doesn't
# work through Interrupt-remapped IO-APIC" (arch/x86/kernel/apic/io_apic.c:2129 in 6.12,
# :2127 in 7.3, :2237 in 6.1); the option skips that test (io_apic.c:1466-1473, 1523).
# Seen twice in one loaded matrix run on 6.12 (intel and amd), 0.03 s into boot.
COMMON_KERNEL_ARGS="console=ttyS0 rdinit=/init panic=-1 no_timer_check"
