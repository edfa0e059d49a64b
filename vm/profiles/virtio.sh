# virtio-iommu has no interrupt remapping, so VFIO refuses to bind unless the
# unsafe-interrupts override is set.
PROFILE_QEMU_ARGS=(-machine q35 -device virtio-iommu-pci)
PROFILE_KERNEL_ARGS="iommufd.allow_unsafe_interrupts=1"
