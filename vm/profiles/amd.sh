# Emulated AMD-Vi with interrupt remapping (works with QEMU 7.2; 10.0's panics
# the guest at boot, see vm-facts).
PROFILE_QEMU_ARGS=(-machine q35 -device amd-iommu,intremap=on)
PROFILE_KERNEL_ARGS=""

# Linux 7.x no longer trusts the IVRS's southbridge IOAPIC at 00:14.0: that function
# must be an ISA bridge or SMBus controller (drivers/iommu/amd/init.c
# check_sb_ioapic). QEMU 7.2 names 00:14.0 and sends IOAPIC interrupts from it, and
# has no device of either class to put there, so 7.x logs "No southbridge IOAPIC
# found", runs without interrupt remapping, and VFIO refuses the unisolated MSI with
# EPERM. No argument restores remapping (ivrs_ioapic=0@00:1f.0 passes the check, but
# the remap table lands on 00:1f.0 and the boot panics: "timer doesn't work through
# Interrupt-remapped IO-APIC"), so 7.x kernels get the unsafe-interrupts overrides,
# as on the virtio profile. 6.12 keeps real remapping. See docs/amd-7.3.md.
# vm-run sources this file with $kernel set (and Scripts/lib/common.sh loaded).
case "$(bzimage_release "${kernel:-}")" in
  [7-9].*|[1-9][0-9].*)
    PROFILE_KERNEL_ARGS="iommufd.allow_unsafe_interrupts=1 vfio_iommu_type1.allow_unsafe_interrupts=1" ;;
esac
