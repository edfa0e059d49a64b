# virtio-iommu has no interrupt remapping, so VFIO refuses to bind unless the
# unsafe-interrupts override is set.
PROFILE_QEMU_ARGS=(-machine q35 -device virtio-iommu-pci)
PROFILE_KERNEL_ARGS="iommufd.allow_unsafe_interrupts=1"
# Linux >= 6.15 (bcb81ac6ae3c) loses the whole virtio-iommu when one endpoint fails to
# probe, and QEMU 7.2 answers NOENT for the edus behind the PCIe-to-PCI bridge (their
# own RID; it only knows the bridge alias): no device gets a group. They never got
# one on 6.12 either. See docs/virtio-iommu-7.3.md.
PROFILE_NO_BRIDGE=1
