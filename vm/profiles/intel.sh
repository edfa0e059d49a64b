# Emulated VT-d with interrupt remapping; caching-mode is what lets a guest
# VFIO map through it. The IOMMU must come before the devices it translates.
# kernel-irqchip=split is needed by intremap under KVM; harmless under TCG.
PROFILE_QEMU_ARGS=(-machine q35,kernel-irqchip=split
  -device intel-iommu,intremap=on,caching-mode=on)
PROFILE_KERNEL_ARGS="intel_iommu=on"
