import CIOMMUFD
import Glibc
import IOMMUFD

/// IOAS map+unmap (4 KiB and a 2 MiB hugetlb page) and IOAS_COPY, each at a fixed IOVA
/// in an IOAS with no device attached, so the kernel's part is as short as it gets.
enum IOMMUFDMeasurements {
    static let iova: UInt64 = 0x100_0000
    static let hugePage = 2 << 20

    static func run(_ bench: Bench) throws(IOMMUFDError) {
        let iommufd = try IOMMUFD.open()
        let ioas = try iommufd.allocIOAS()
        let other = try iommufd.allocIOAS()
        guard let page = mapPage(4096, flags: 0) else {
            throw .system("mmap", Errno(rawValue: errno), on: "a 4 KiB page")
        }
        defer { munmap(page.baseAddress, page.count) }

        // No library: hand-filled structs and the shim's ioctl(2), as the C baseline does it.
        // What a Swift process costs by itself (its size, its address space) beside C.
        guard let descriptor = iommufd.fd.rawValue else { throw .system("ioctl", .badFileDescriptor, on: "/dev/iommu") }
        var directMap = mapCommand(ioas.id.rawValue, userPointer(page.baseAddress), 4096)
        var directUnmap = unmapCommand(ioas.id.rawValue, 4096)
        try bench.measure("map-4k-ioctl") { () throws(IOMMUFDError) in
            guard ciommufd_ioctl(descriptor, CIOMMUFD_REQ_IOMMU_IOAS_MAP, &directMap) == 0,
                  ciommufd_ioctl(descriptor, CIOMMUFD_REQ_IOMMU_IOAS_UNMAP, &directUnmap) == 0 else {
                throw .kernel(.ioasMap, Errno(rawValue: ciommufd_errno()))
            }
        }
        // The library's typed path: validation, then the raw layer, then perform.
        try bench.measure("map-4k") { () throws(IOMMUFDError) in
            try ioas.map(page, at: iova)
            try ioas.unmap(iova: iova, length: 4096)
        }
        // The raw layer alone (no validation), inlined into this module.
        let raw = iommufd.raw, id = ioas.id.rawValue, va = userPointer(page.baseAddress)
        try bench.measure("map-4k-raw") { () throws(IOMMUFDError) in
            try raw.map(ioas: id, userVA: va, length: 4096, iova: iova)
            try raw.unmap(ioas: id, iova: iova, length: 4096)
        }
        // perform<T> as a caller sees it without specialization (generic, type metadata at run time).
        try bench.measure("map-4k-unspecialized") { () throws(IOMMUFDError) in
            var map = mapCommand(id, va, 4096)
            try performUnspecialized(iommufd.fd, .ioasMap, &map)
            var unmap = unmapCommand(id, 4096)
            try performUnspecialized(iommufd.fd, .ioasUnmap, &unmap)
        }
        // Tracing on, with a handler that drops the events: the cost of building them.
        try IoctlTracer.with({ _ in }) { () throws(IOMMUFDError) in
            try bench.measure("map-4k-traced") { () throws(IOMMUFDError) in
                try ioas.map(page, at: iova)
                try ioas.unmap(iova: iova, length: 4096)
            }
        }

        try ioas.map(page, at: iova)
        try bench.measure("copy-4k") { () throws(IOMMUFDError) in
            try other.copy(from: ioas.id, sourceIOVA: iova, length: 4096, to: iova)
            try other.unmap(iova: iova, length: 4096)
        }
        try ioas.unmap(iova: iova, length: 4096)

        guard let huge = mapPage(hugePage, flags: MAP_HUGETLB) else {
            try bench.skip("map-2m-hugetlb", "mmap MAP_HUGETLB of 2 MiB: \(String(cString: strerror(errno)))")
            return
        }
        defer { munmap(huge.baseAddress, huge.count) }
        try bench.measure("map-2m-hugetlb") { () throws(IOMMUFDError) in
            try ioas.map(huge, at: iova)
            try ioas.unmap(iova: iova, length: UInt64(hugePage))
        }
    }

    /// `size` bytes of their own anonymous mapping, touched so the pages exist before the
    /// timing; nil when mmap fails (no free hugetlb page). Small ones are kept out of
    /// transparent huge pages, as in the C baseline: pinning part of one costs differently.
    static func mapPage(_ size: Int, flags: Int32) -> UnsafeMutableRawBufferPointer? {
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0)
        guard let p, p != MAP_FAILED else { return nil }
        if flags & MAP_HUGETLB == 0 { _ = madvise(p, size, MADV_NOHUGEPAGE) }
        let buffer = UnsafeMutableRawBufferPointer(start: p, count: size)
        buffer.initializeMemory(as: UInt8.self, repeating: 1)
        return buffer
    }

    static func mapCommand(_ ioas: UInt32, _ va: UInt64, _ length: UInt64) -> iommu_ioas_map {
        var cmd = iommu_ioas_map()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_map>.size)
        cmd.flags = RawIOMMUFD.readWrite | UInt32(IOMMU_IOAS_MAP_FIXED_IOVA.rawValue)
        cmd.ioas_id = ioas
        cmd.user_va = va
        cmd.length = length
        cmd.iova = iova
        return cmd
    }

    static func unmapCommand(_ ioas: UInt32, _ length: UInt64) -> iommu_ioas_unmap {
        var cmd = iommu_ioas_unmap()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_unmap>.size)
        cmd.ioas_id = ioas
        cmd.iova = iova
        cmd.length = length
        return cmd
    }
}

/// Calls perform<T> from a context the optimizer may not specialize: what a generic
/// entry point costs without `@inlinable` (the comparison for specializing it).
@_semantics("optimize.sil.specialize.generic.never")
@inline(never)
func performUnspecialized<T>(_ fd: KernelFD, _ request: IoctlRequest, _ argument: inout T) throws(IOMMUFDError) {
    try fd.perform(request, &argument)
}
