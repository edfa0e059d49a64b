/// Kernel bugs this suite found, each with an opt-in reproducer (a WARN or Oops fails
/// the whole VM run, so they run only with SWIFT_IOMMUFD_KNOWN_BUGS=1). Reports for
/// kernel developers: docs/kernel-bugs/.
enum KnownBugs {
    static let mapNoAccessWarn = "7.3.4 + VT-d or AMD-Vi: VFIO_IOMMU_MAP_DMA on the iommufd compat container with neither READ nor WRITE WARNs in the generic page table (iommu_pt.h:933, WARN_ON(!(prot & (IOMMU_READ | IOMMU_WRITE))) in vtdss_map_range / amdv1_map_range); 6.12 refused it quietly (docs/kernel-bugs/vtd-map-no-access-warn.md)"
}
