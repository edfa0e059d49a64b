import IOMMUFD
import VFIO

/// VFIO's unsafe no-IOMMU mode on the 7.x cdev path: a device with no IOMMU binds to
/// iommufd, whose IOAS is kept in a software-only page table
/// (drivers/iommu/iommufd/hwpt_noiommu.c), and IOMMU_IOAS_NOIOMMU_GET_PA tells the
/// driver which physical address to program, since the device's DMA is not translated
/// (drivers/iommu/iommufd/ioas.c, iommufd_ioas_noiommu_get_pa; io_pagetable.c, iopt_get_phys).
enum NoIOMMUCases {
    /// The first kernel these cases were checked against: the no-IOMMU cdev path and
    /// GET_PA (0x95) are in 7.3 and not in 6.12.
    static let since: KernelVersion = "7.3"
    static let srcIOVA: UInt64 = 0x10_0000
    static let dstIOVA: UInt64 = 0x20_0000
    static let page: UInt64 = 4096

    static var all: [ConformanceCase] {
        [cdevName, bindAttach, getPA, getPAHuge, getPAErrors, dma, refusals, getPABehindIOMMU, getPANoDomain]
    }

    static func edu(_ ctx: CaseContext) throws -> PCIDevice {
        guard let pci = ctx.machine.noIOMMUEdus.first else { try ctx.skip("no edu in no-IOMMU mode") }
        return pci
    }

    /// An edu bound to a fresh iommufd and attached to an IOAS, through the library.
    static func setUp(_ ctx: CaseContext) throws -> DMAPath {
        try DMAPath(mode: .native, pci: try edu(ctx))
    }

    static let cdevName = ConformanceCase(
        "noiommu.cdev-name",
        rule: "a vfio-pci device with no IOMMU gets the cdev noiommu-vfioN and a vfio-noiommu group",
        since: since, requires: [.noIOMMUEdu]) { ctx in
        let pci = try edu(ctx)
        let cdev = pci.vfioCdevPath ?? "-"
        try ctx.check(cdev.hasPrefix("/dev/vfio/devices/noiommu-vfio"), "cdev is \(cdev), expected /dev/vfio/devices/noiommu-vfioN")
        try ctx.check(pci.iommu == nil, "a no-IOMMU device has an IOMMU instance: \(pci.iommu ?? "-")")
        let group = pci.iommuGroup.map { Sysfs.read("/sys/kernel/iommu_groups/\($0)/name") ?? "" } ?? "(no group)"
        try ctx.checkEqual(group, "vfio-noiommu", "IOMMU group name")
    }

    static let bindAttach = ConformanceCase(
        "noiommu.bind-attach",
        rule: "BIND_IOMMUFD and ATTACH_IOMMUFD_PT succeed for a no-IOMMU device (CAP_SYS_RAWIO), detach too",
        since: since, requires: [.iommufd, .noIOMMUEdu]) { ctx in
        let pci = try edu(ctx)
        let iommufd = try ctx.openIOMMUFD()
        let device = try ctx.expectOK("open \(pci.vfioCdevPath ?? "-")") {
            try VFIODevice.openCdev(pci.vfioCdevPath ?? "")
        }
        try ctx.expectOK("BIND_IOMMUFD") { try device.bind(iommufd: iommufd) }
        let ioas = try ctx.expectOK("IOAS_ALLOC") { try iommufd.allocIOAS() }
        try ctx.expectOK("ATTACH_IOMMUFD_PT to the IOAS") { try device.attach(ioas.id) }
        try ctx.expectOK("DETACH_IOMMUFD_PT") { try device.detach() }
    }

    static let getPA = ConformanceCase(
        "noiommu.get-pa",
        rule: "NOIOMMU_GET_PA returns the page-aligned physical address of a mapped 4 KiB page, the offset within it, and the contiguous length capped by the request",
        since: since, requires: [.iommufd, .noIOMMUEdu]) { ctx in
        let path = try setUp(ctx)
        guard let n = path.native else { throw CaseFailure("no native setup") }
        let buffer = try DMABuffer(size: Int(page))
        try ctx.expectOK("map a 4 KiB page") { try path.map(buffer, length: Int(page), iova: srcIOVA) }
        let whole = try ctx.expectOK("GET_PA of the page") {
            try n.ioas.physicalAddress(iova: srcIOVA, length: page)
        }
        try ctx.checkEqual(whole.length, page, "contiguous length of one mapped page")
        try ctx.check(whole.physicalAddress % page == 0 && whole.physicalAddress != 0,
                      "physical address \(whole) is not a page-aligned, non-zero address")
        let inner = try ctx.expectOK("GET_PA 0x10 into the page") {
            try n.ioas.physicalAddress(iova: srcIOVA + 0x10, length: page)
        }
        try ctx.checkEqual(inner.physicalAddress - whole.physicalAddress, 0x10, "offset within the page")
        try ctx.checkEqual(inner.length, page - 0x10, "length to the end of the mapping")
        let short = try ctx.expectOK("GET_PA capped at 0x100 bytes") {
            try n.ioas.physicalAddress(iova: srcIOVA, length: 0x100)
        }
        try ctx.checkEqual(short.length, 0x100, "length capped by the request")
    }

    static let getPAHuge = ConformanceCase(
        "noiommu.get-pa.hugetlb",
        rule: "NOIOMMU_GET_PA of a mapped 2 MiB hugetlb page reports 2 MiB physically contiguous from a 2 MiB-aligned address",
        since: since, requires: [.iommufd, .noIOMMUEdu, .hugetlb]) { ctx in
        let path = try setUp(ctx)
        guard let n = path.native else { throw CaseFailure("no native setup") }
        let huge: UInt64 = 2 << 20
        let buffer = try DMABuffer(size: Int(huge), backing: .hugetlb2m)
        try ctx.expectOK("map a 2 MiB hugetlb page") { try path.map(buffer, length: Int(huge), iova: 0x40_0000) }
        let extent = try ctx.expectOK("GET_PA of the whole page") {
            try n.ioas.physicalAddress(iova: 0x40_0000, length: huge)
        }
        try ctx.checkEqual(extent.length, huge, "contiguous length")
        try ctx.checkEqual(extent.physicalAddress % huge, 0, "physical address modulo 2 MiB")
    }

    static let getPAErrors = ConformanceCase(
        "noiommu.get-pa.errors",
        rule: "NOIOMMU_GET_PA: zero length EINVAL, flags or __reserved EOPNOTSUPP, iova ULONG_MAX EOVERFLOW, unmapped IOVA or unknown IOAS ENOENT",
        since: since, requires: [.iommufd, .noIOMMUEdu]) { ctx in
        let path = try setUp(ctx)
        guard let n = path.native else { throw CaseFailure("no native setup") }
        let buffer = try DMABuffer(size: Int(page))
        try ctx.expectOK("map") { try path.map(buffer, length: Int(page), iova: srcIOVA) }
        let fd = n.iommufd.fd, ioas = n.ioas.id.rawValue
        try ctx.expectErrno(.invalidArgument, "length 0") {
            try fd.raw.noIOMMUGetPA(ioas: ioas, iova: srcIOVA, length: 0)
        }
        try ctx.expectErrno(.notSupported, "flags 1") {
            try fd.raw.noIOMMUGetPA(ioas: ioas, iova: srcIOVA, length: page, flags: 1)
        }
        try ctx.expectErrno(.notSupported, "__reserved 1") {
            try fd.raw.noIOMMUGetPA(ioas: ioas, iova: srcIOVA, length: page, reserved: 1)
        }
        try ctx.expectErrno(.overflow, "iova ULONG_MAX") {
            try fd.raw.noIOMMUGetPA(ioas: ioas, iova: .max, length: page)
        }
        try ctx.expectErrno(.noSuchFileOrDirectory, "unmapped IOVA") {
            try fd.raw.noIOMMUGetPA(ioas: ioas, iova: dstIOVA, length: page)
        }
        try ctx.expectErrno(.noSuchFileOrDirectory, "unknown IOAS id") {
            try fd.raw.noIOMMUGetPA(ioas: 9999, iova: srcIOVA, length: page)
        }
    }

    static let dma = ConformanceCase(
        "noiommu.dma",
        rule: "a no-IOMMU device's DMA to the physical addresses NOIOMMU_GET_PA returns reads and writes exactly the mapped memory",
        since: since, requires: [.iommufd, .noIOMMUEdu]) { ctx in
        let path = try setUp(ctx)
        guard let n = path.native else { throw CaseFailure("no native setup") }
        let a = try DMABuffer(size: Int(page)), b = try DMABuffer(size: Int(page))
        a.fillPattern(seed: 5, length: DMACases.length)
        try ctx.expectOK("map source") { try path.map(a, length: Int(page), iova: srcIOVA) }
        try ctx.expectOK("map destination") { try path.map(b, length: Int(page), iova: dstIOVA) }
        let src = try ctx.expectOK("GET_PA source") { try n.ioas.physicalAddress(iova: srcIOVA, length: page) }
        let dst = try ctx.expectOK("GET_PA destination") { try n.ioas.physicalAddress(iova: dstIOVA, length: page) }
        try ctx.expectOK("DMA round trip through physical addresses") {
            try path.roundTrip(from: src.physicalAddress, to: dst.physicalAddress, length: DMACases.length)
        }
        try ctx.check(b.matchesPattern(seed: 5, length: DMACases.length), "destination does not hold the source's bytes after DMA")
    }

    static let refusals = ConformanceCase(
        "noiommu.refusals",
        rule: "for a no-IOMMU device GET_HW_INFO is EOPNOTSUPP and HWPT_ALLOC with any flag is EOPNOTSUPP; a plain paging HWPT is allowed",
        since: since, requires: [.iommufd, .noIOMMUEdu]) { ctx in
        let path = try setUp(ctx)
        guard let n = path.native else { throw CaseFailure("no native setup") }
        try ctx.expectErrno(.notSupported, "GET_HW_INFO") { try n.iommufd.hwInfo(device: n.deviceID) }
        try ctx.expectErrno(.notSupported, "HWPT_ALLOC NEST_PARENT") {
            try n.iommufd.allocHWPT(device: n.deviceID, ioas: n.ioas.id, flags: .nestParent)
        }
        try ctx.expectOK("HWPT_ALLOC paging") { try n.iommufd.allocHWPT(device: n.deviceID, ioas: n.ioas.id) }
    }

    static let getPABehindIOMMU = ConformanceCase(
        "ioas.noiommu-get-pa.translated",
        rule: "NOIOMMU_GET_PA on an IOAS whose device sits behind a real IOMMU is EOPNOTSUPP (its DMA is translated)",
        since: since, requires: [.iommufd, .eduDevice]) { ctx in
        let path = try DMAPath(mode: .native, pci: try DMACases.firstEdu(ctx))
        guard let n = path.native else { throw CaseFailure("no native setup") }
        let buffer = try DMABuffer(size: Int(page))
        try ctx.expectOK("map") { try path.map(buffer, length: Int(page), iova: srcIOVA) }
        try ctx.expectErrno(.notSupported, "GET_PA") {
            try n.ioas.physicalAddress(iova: srcIOVA, length: page)
        }
    }

    static let getPANoDomain = ConformanceCase(
        "ioas.noiommu-get-pa.no-device",
        rule: "NOIOMMU_GET_PA on a mapped IOAS with no device attached is EOPNOTSUPP; on an unmapped IOVA ENOENT",
        since: since, requires: [.iommufd]) { ctx in
        let iommufd = try ctx.openIOMMUFD()
        let ioas = try ctx.expectOK("IOAS_ALLOC") { try iommufd.allocIOAS() }
        let buffer = try DMABuffer(size: Int(page))
        try ctx.expectOK("map") { try ioas.map(buffer.bytes, at: srcIOVA) }
        try ctx.expectErrno(.notSupported, "GET_PA of a mapped IOVA") {
            try ioas.physicalAddress(iova: srcIOVA, length: page)
        }
        try ctx.expectErrno(.noSuchFileOrDirectory, "GET_PA of an unmapped IOVA") {
            try ioas.physicalAddress(iova: dstIOVA, length: page)
        }
    }
}
