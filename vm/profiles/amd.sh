# Emulated AMD-Vi with interrupt remapping (works with QEMU 7.2; 10.0's panics
# the guest at boot, see vm-facts).
PROFILE_QEMU_ARGS=(-machine q35 -device amd-iommu,intremap=on)
PROFILE_KERNEL_ARGS=""
