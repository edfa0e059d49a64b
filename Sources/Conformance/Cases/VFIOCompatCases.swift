// The VFIO container ioctls on a bare /dev/iommu, before any compat IOAS exists: the
// kernel selftest's `iommufd` fixture tests simple_ioctls, unmap_cmd, map_cmd, info_cmd
// and set_iommu_cmd (7.3.4 iommufd.c:2428-2490). Each request is validated first
// (argsz, flags) and then needs the compat IOAS (get_compat_ioas, vfio_compat.c:15-33,
// ENODEV without one). Line numbers are 7.3.4's drivers/iommu/iommufd/vfio_compat.c;
// 6.12.117's differ only after :279 (set_iommu :315, get_info :439).
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage
import VFIO

enum VFIOCompatCases {
    static var all: [ConformanceCase] { [simpleIOCTLs, unmapDMA, mapDMA, getInfo, setIOMMU] }

    static func c(_ id: String, _ rule: String, _ body: @escaping @Sendable (CaseContext, borrowing VFIOContainer) throws -> Void) -> ConformanceCase {
        ConformanceCase("vfio-compat.no-ioas.\(id)", rule: rule, requires: [.iommufd]) { ctx in
            let container = try ctx.step("open /dev/iommu as a VFIO container") { try VFIOContainer.openIOMMUFDCompat() }
            try body(ctx, container)
        }
    }

    static let simpleIOCTLs = c("simple-ioctls", "VFIO_GET_API_VERSION answers VFIO_API_VERSION (0) and VFIO_CHECK_EXTENSION(TYPE1v2) answers 1 with no IOAS (vfio_compat.c:519, :286)") { ctx, container in
        try ctx.checkEqual(try ctx.step("GET_API_VERSION") { try container.apiVersion() }, Int32(VFIO_API_VERSION), "VFIO_API_VERSION")
        try ctx.checkEqual(try ctx.step("CHECK_EXTENSION TYPE1v2") { try container.checkExtensionRaw(.type1v2) }, 1, "TYPE1v2 supported")
    }

    static let unmapDMA = c("unmap-dma", "VFIO_IOMMU_UNMAP_DMA: argsz below the struct EINVAL, an unknown flag EINVAL (vfio_compat.c:216), then ENODEV: no compat IOAS (:219)") { ctx, container in
        let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        try ctx.expectErrno(.invalidArgument, "argsz 1") {
            try container.unmapDMARaw(iova: MS.apertureStart, size: page, flags: 0, argsz: 1)
        }
        try ctx.expectErrno(.invalidArgument, "flags 1 << 31") {
            try container.unmapDMARaw(iova: MS.apertureStart, size: page, flags: 1 << 31)
        }
        try ctx.expectErrno(.operationNotSupportedByDevice, "flags 0") {
            try container.unmapDMARaw(iova: MS.apertureStart, size: page, flags: 0)
        }
    }

    static let mapDMA = c("map-dma", "VFIO_IOMMU_MAP_DMA: argsz below the struct EINVAL, an unknown flag EINVAL (vfio_compat.c:173), then READ|WRITE ENODEV: no compat IOAS (:181)") { ctx, container in
        let buffer = try needBuffer(MS.bufferSize)
        let page = MS.page, rw = UInt32(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
        try ctx.expectErrno(.invalidArgument, "argsz 1") {
            try container.mapDMARaw(vaddr: buffer.va, iova: MS.apertureStart, size: page, flags: 0, argsz: 1)
        }
        try ctx.expectErrno(.invalidArgument, "flags 1 << 31") {
            try container.mapDMARaw(vaddr: buffer.va, iova: MS.apertureStart, size: page, flags: 1 << 31)
        }
        try ctx.expectErrno(.operationNotSupportedByDevice, "flags READ | WRITE") {
            try container.mapDMARaw(vaddr: buffer.va, iova: MS.apertureStart, size: page, flags: rw)
        }
    }

    static let getInfo = c("get-info", "VFIO_IOMMU_GET_INFO: argsz below iova_pgsizes EINVAL (vfio_compat.c:455), the full struct ENODEV: no compat IOAS (:459)") { ctx, container in
        let size = MemoryLayout<vfio_iommu_type1_info>.size
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0)
        try ctx.expectErrno(.invalidArgument, "argsz 1") { try container.iommuInfoRaw(argsz: 1, into: raw) }
        try ctx.expectErrno(.operationNotSupportedByDevice, "argsz \(size)") { try container.iommuInfoRaw(argsz: UInt32(size), into: raw) }
    }

    static let setIOMMU = c("set-iommu", "VFIO_SET_IOMMU of TYPE1v2 or TYPE1 fails ENODEV with no compat IOAS: VFIO fails it without a group (vfio_compat.c:333)") { ctx, container in
        try ctx.expectErrno(.operationNotSupportedByDevice, "TYPE1v2") { try container.setIOMMU(.type1v2) }
        try ctx.expectErrno(.operationNotSupportedByDevice, "TYPE1") { try container.setIOMMU(.type1) }
    }
}
