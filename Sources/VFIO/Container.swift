import CIOMMUFD
import IOMMUFD

/// A VFIO container: the legacy type1 `/dev/vfio/vfio`, or `/dev/iommu` used as one
/// (iommufd's compat layer answers the same ioctls). Groups join it with
/// `VFIOGroup.setContainer`; then SET_IOMMU, then DMA maps. Closed on deinit.
public struct VFIOContainer: ~Copyable {
    public let fd: KernelFD
    public let kind: Kind

    public enum Kind: Sendable, Equatable {
        /// VFIO's own container (`CONFIG_VFIO_CONTAINER=y`).
        case vfio
        /// An iommufd fd as the container (`/dev/iommu`, or `/dev/vfio/vfio` provided by iommufd).
        case iommufdCompat
    }

    /// Opens `/dev/vfio/vfio`.
    public static func open(_ path: String = "/dev/vfio/vfio") throws(IOMMUFDError) -> VFIOContainer {
        VFIOContainer(adopting: try openNode(path), kind: .vfio)
    }

    /// Opens `/dev/iommu` to use it as a type1 container through the compat layer.
    public static func openIOMMUFDCompat(_ path: String = "/dev/iommu") throws(IOMMUFDError) -> VFIOContainer {
        VFIOContainer(adopting: try openNode(path), kind: .iommufdCompat)
    }

    /// Uses an open iommufd as the container; the IOMMUFD API stays usable on the same fd
    /// (e.g. IOMMU_VFIO_IOAS to find the compat IOAS).
    public init(compat iommufd: borrowing IOMMUFD) {
        fd = iommufd.fd
        kind = .iommufdCompat
    }

    public init(adopting raw: Int32, kind: Kind, driver: any IoctlDriver = SystemIoctlDriver()) {
        fd = KernelFD(adopting: raw, driver: driver)
        self.kind = kind
    }
}

/// VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU values.
public struct VFIOExtension: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }
    public static let type1 = VFIOExtension(rawValue: UInt(VFIO_TYPE1_IOMMU))
    public static let spaprTCE = VFIOExtension(rawValue: UInt(VFIO_SPAPR_TCE_IOMMU))
    public static let type1v2 = VFIOExtension(rawValue: UInt(VFIO_TYPE1v2_IOMMU))
    public static let dmaCC = VFIOExtension(rawValue: UInt(VFIO_DMA_CC_IOMMU))
    public static let eeh = VFIOExtension(rawValue: UInt(VFIO_EEH))
    // Reserved since 6.13 (__VFIO_RESERVED_TYPE1_NESTING_IOMMU); CHECK_EXTENSION answers 0 there.
    public static let type1Nesting = VFIOExtension(rawValue: UInt(__VFIO_RESERVED_TYPE1_NESTING_IOMMU))
    public static let spaprTCEv2 = VFIOExtension(rawValue: UInt(VFIO_SPAPR_TCE_v2_IOMMU))
    public static let noIOMMU = VFIOExtension(rawValue: UInt(VFIO_NOIOMMU_IOMMU))
    public static let unmapAll = VFIOExtension(rawValue: UInt(VFIO_UNMAP_ALL))
    public static let updateVaddr = VFIOExtension(rawValue: UInt(VFIO_UPDATE_VADDR))

    public var description: String {
        switch self {
        case .type1: "VFIO_TYPE1_IOMMU"
        case .type1v2: "VFIO_TYPE1v2_IOMMU"
        case .unmapAll: "VFIO_UNMAP_ALL"
        case .updateVaddr: "VFIO_UPDATE_VADDR"
        case .noIOMMU: "VFIO_NOIOMMU_IOMMU"
        case .type1Nesting: "VFIO_TYPE1_NESTING_IOMMU"
        case .dmaCC: "VFIO_DMA_CC_IOMMU"
        default: "VFIO extension \(rawValue)"
        }
    }
}

/// What VFIO_IOMMU_GET_INFO reports, with its capabilities decoded.
public struct ContainerIOMMUInfo: Sendable, Hashable {
    public let flags: UInt32
    /// Supported IOMMU page sizes (bitmap), when FLAG_PGSIZES.
    public let pageSizes: UInt64?
    /// Usable IOVA ranges (CAP_IOVA_RANGE; `last` is inclusive).
    public let iovaRanges: [IOVARange]?
    /// How many more DMA mappings are allowed (CAP_DMA_AVAIL).
    public let dmaAvailable: UInt32?
    /// Dirty tracking support (CAP_MIGRATION): flags, page sizes, max bitmap size.
    public let migration: Migration?
    public let capabilities: [InfoCapability]

    public struct Migration: Sendable, Hashable {
        public let flags: UInt32
        public let pageSizes: UInt64
        public let maxDirtyBitmapSize: UInt64
    }
}

/// DMA mapping permissions.
public struct DMAAccess: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let read = DMAAccess(rawValue: UInt32(VFIO_DMA_MAP_FLAG_READ))
    public static let write = DMAAccess(rawValue: UInt32(VFIO_DMA_MAP_FLAG_WRITE))
    public static let readWrite: DMAAccess = [.read, .write]
}

extension VFIOContainer {
    /// VFIO_GET_API_VERSION (0 = VFIO_API_VERSION).
    public func apiVersion() throws(IOMMUFDError) -> Int32 {
        try fd.perform(.vfioGetAPIVersion, value: 0)
    }

    /// VFIO_CHECK_EXTENSION: > 0 when supported.
    public func checkExtension(_ ext: VFIOExtension) throws(IOMMUFDError) -> Bool {
        try checkExtensionRaw(ext) > 0
    }

    /// VFIO_CHECK_EXTENSION's return value as the kernel gave it (1 for a supported type).
    public func checkExtensionRaw(_ ext: VFIOExtension) throws(IOMMUFDError) -> Int32 {
        try fd.perform(.vfioCheckExtension, value: ext.rawValue, argumentName: ext.description)
    }

    /// VFIO_SET_IOMMU (.type1 or .type1v2). Needs at least one group in the container.
    public func setIOMMU(_ type: VFIOExtension) throws(IOMMUFDError) {
        try fd.perform(.vfioSetIOMMU, value: type.rawValue, argumentName: type.description)
    }

    /// VFIO_IOMMU_GET_INFO with the argsz two-pass for the capability chain.
    public func iommuInfo() throws(IOMMUFDError) -> ContainerIOMMUInfo {
        let size = MemoryLayout<vfio_iommu_type1_info>.size
        let out = try fd.performGrowing(.vfioIOMMUGetInfo, header: bytes(of: vfio_iommu_type1_info()))
        let raw = load(vfio_iommu_type1_info.self, from: out, initial: vfio_iommu_type1_info())
        let caps = raw.flags & UInt32(VFIO_IOMMU_INFO_CAPS) != 0
            ? InfoCapability.chain(in: out, first: raw.cap_offset, headerSize: size) : []
        var ranges: [IOVARange]?
        var avail: UInt32?
        var migration: ContainerIOMMUInfo.Migration?
        for cap in caps {
            switch Int32(cap.id) {
            case VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE:
                let n = Int(cap.payload.le(UInt32.self, at: 0) ?? 0)
                var list: [IOVARange] = []
                for i in 0..<min(n, max(0, (cap.payload.count - 8) / 16)) {
                    if let s = cap.payload.le(UInt64.self, at: 8 + 16 * i), let e = cap.payload.le(UInt64.self, at: 16 + 16 * i) {
                        list.append(IOVARange(start: s, last: e))
                    }
                }
                ranges = list
            case VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL:
                avail = cap.payload.le(UInt32.self, at: 0)
            case VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION:
                if let f = cap.payload.le(UInt32.self, at: 0), let p = cap.payload.le(UInt64.self, at: 8),
                   let m = cap.payload.le(UInt64.self, at: 16) {
                    migration = .init(flags: f, pageSizes: p, maxDirtyBitmapSize: m)
                }
            default: break
            }
        }
        return ContainerIOMMUInfo(flags: raw.flags,
                                  pageSizes: raw.flags & UInt32(VFIO_IOMMU_INFO_PGSIZES) != 0 ? raw.iova_pgsizes : nil,
                                  iovaRanges: ranges, dmaAvailable: avail, migration: migration, capabilities: caps)
    }

    /// VFIO_IOMMU_MAP_DMA of `size` bytes at user address `vaddr` to `iova`.
    public func mapDMA(vaddr: UInt64, iova: UInt64, size: UInt64, access: DMAAccess = .readWrite) throws(IOMMUFDError) {
        if size == 0 { throw .invalid(.vfioIOMMUMapDMA, argument: "size", "size is zero") }
        if access.isEmpty { throw .invalid(.vfioIOMMUMapDMA, argument: "flags", "a mapping needs READ and/or WRITE") }
        try mapDMARaw(vaddr: vaddr, iova: iova, size: size, flags: access.rawValue)
    }

    /// VFIO_IOMMU_MAP_DMA exactly as given, without `mapDMA`'s checks: `flags` are the raw
    /// uAPI bits (READ 1, WRITE 2, VADDR 4). For asking the kernel about requests `mapDMA`
    /// refuses up front (no READ/WRITE, size 0, unknown flags). `argsz` overrides the struct size.
    public func mapDMARaw(vaddr: UInt64, iova: UInt64, size: UInt64, flags: UInt32,
                          argsz: UInt32? = nil) throws(IOMMUFDError) {
        var cmd = vfio_iommu_type1_dma_map()
        cmd.argsz = argsz ?? UInt32(MemoryLayout<vfio_iommu_type1_dma_map>.size)
        cmd.flags = flags
        cmd.vaddr = vaddr
        cmd.iova = iova
        cmd.size = size
        try fd.perform(.vfioIOMMUMapDMA, &cmd, argumentName: "iova")
    }

    /// MAP_DMA of a buffer this process owns; it must outlive the mapping.
    public func mapDMA(_ buffer: UnsafeMutableRawBufferPointer, iova: UInt64, access: DMAAccess = .readWrite) throws(IOMMUFDError) {
        try mapDMA(vaddr: userPointer(buffer.baseAddress), iova: iova, size: UInt64(buffer.count), access: access)
    }

    /// VFIO_IOMMU_UNMAP_DMA of [iova, iova+size); returns the bytes unmapped (0 for an empty range).
    @discardableResult
    public func unmapDMA(iova: UInt64, size: UInt64) throws(IOMMUFDError) -> UInt64 {
        try unmapDMARaw(iova: iova, size: size, flags: 0)
    }

    /// UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_ALL (iova and size must be 0); returns bytes unmapped.
    @discardableResult
    public func unmapAll() throws(IOMMUFDError) -> UInt64 {
        try unmapDMARaw(iova: 0, size: 0, flags: UInt32(VFIO_DMA_UNMAP_FLAG_ALL))
    }

    /// A `struct vfio_bitmap` for UNMAP_DMA with GET_DIRTY_BITMAP: `data` is the user
    /// address of `size` bytes of bitmap, one bit per `pageSize`.
    public struct DirtyBitmapArea: Sendable {
        public var pageSize: UInt64, size: UInt64, data: UInt64
        public init(pageSize: UInt64, size: UInt64, data: UInt64) { self.pageSize = pageSize; self.size = size; self.data = data }
    }

    /// VFIO_IOMMU_UNMAP_DMA exactly as given (any flags; iova/size with FLAG_ALL), with the
    /// vfio_bitmap after the header when `bitmap` is given. Returns size as written back.
    /// `argsz` overrides the size sent (the buffer stays the full struct).
    @discardableResult
    public func unmapDMARaw(iova: UInt64, size: UInt64, flags: UInt32,
                            bitmap: DirtyBitmapArea? = nil, argsz: UInt32? = nil) throws(IOMMUFDError) -> UInt64 {
        let header = MemoryLayout<vfio_iommu_type1_dma_unmap>.size
        let total = header + (bitmap == nil ? 0 : MemoryLayout<vfio_bitmap>.size)
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 8)
        defer { storage.deallocate() }
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        var cmd = vfio_iommu_type1_dma_unmap()
        cmd.argsz = argsz ?? UInt32(total)
        cmd.flags = flags
        cmd.iova = iova
        cmd.size = size
        storage.storeBytes(of: cmd, as: vfio_iommu_type1_dma_unmap.self)
        if let bitmap {
            var area = vfio_bitmap()
            area.pgsize = bitmap.pageSize
            area.size = bitmap.size
            area.data = UnsafeMutablePointer(bitPattern: UInt(bitmap.data))
            storage.storeBytes(of: area, toByteOffset: header, as: vfio_bitmap.self)
        }
        try fd.perform(.vfioIOMMUUnmapDMA, bytes: storage, argumentName: flags == 0 ? "iova" : "flags")
        return storage.load(as: vfio_iommu_type1_dma_unmap.self).size
    }

    /// VFIO_IOMMU_GET_INFO into `buffer` with this `argsz` (written to its first 4 bytes; the
    /// rest of the buffer is sent as it is). For probing argsz handling; `iommuInfo` decodes.
    public func iommuInfoRaw(argsz: UInt32, into buffer: UnsafeMutableRawBufferPointer) throws(IOMMUFDError) {
        guard buffer.count >= 4 else {
            throw .invalid(.vfioIOMMUGetInfo, argument: "argsz", "the buffer cannot hold argsz")
        }
        buffer.storeBytes(of: argsz, as: UInt32.self)
        try fd.perform(.vfioIOMMUGetInfo, bytes: buffer, argumentName: "argsz")
    }

    /// VFIO_IOMMU_DIRTY_PAGES START (native type1 only; compat answers ENOTTY).
    public func startDirtyTracking() throws(IOMMUFDError) { try dirtyPages(UInt32(VFIO_IOMMU_DIRTY_PAGES_FLAG_START)) }

    /// VFIO_IOMMU_DIRTY_PAGES STOP.
    public func stopDirtyTracking() throws(IOMMUFDError) { try dirtyPages(UInt32(VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP)) }

    private func dirtyPages(_ flag: UInt32) throws(IOMMUFDError) {
        var cmd = vfio_iommu_type1_dirty_bitmap()
        cmd.argsz = UInt32(MemoryLayout<vfio_iommu_type1_dirty_bitmap>.size)
        cmd.flags = flag
        try fd.perform(.vfioIOMMUDirtyPages, &cmd, argumentName: "flags")
    }

    /// VFIO_IOMMU_DIRTY_PAGES GET_BITMAP: one bit per `pageSize` page of [iova, iova+size).
    public func dirtyBitmap(iova: UInt64, size: UInt64, pageSize: UInt64) throws(IOMMUFDError) -> [UInt64] {
        let words = try bitmapWords(.vfioIOMMUDirtyPages, length: size, pageSize: pageSize, names: ("size", "pgsize"))
        return try withArrayBuffer([UInt64](repeating: 0, count: words)) { (bitmap) throws(IOMMUFDError) in
            var get = vfio_iommu_type1_dirty_bitmap_get()
            get.iova = iova
            get.size = size
            get.bitmap.pgsize = pageSize
            get.bitmap.size = UInt64(words * 8)
            get.bitmap.data = bitmap.baseAddress
            var buf = [UInt8](repeating: 0, count: 8)
            buf.putLE(UInt32(8 + MemoryLayout<vfio_iommu_type1_dirty_bitmap_get>.size), at: 0)
            buf.putLE(UInt32(VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP), at: 4)
            buf += bytes(of: get)
            try fd.performBytes(.vfioIOMMUDirtyPages, buf, argumentName: "bitmap")
            return Array(bitmap)
        }
    }
}

/// The u64 words of a bitmap with one bit per `pageSize` page of `length` bytes (the last
/// page may be partial), allocated before the ioctl: zero sizes are refused, and so are
/// more than 2^34 pages (a 2 GiB bitmap), which also keeps the arithmetic from overflowing.
/// The names are the uAPI struct's, for the error's argument.
func bitmapWords(_ request: IoctlRequest, length: UInt64, pageSize: UInt64,
                 names: (length: String, pageSize: String)) throws(IOMMUFDError) -> Int {
    guard pageSize > 0, length > 0 else {
        throw .invalid(request, argument: names.pageSize, "page size and \(names.length) must be non-zero")
    }
    let pages = length / pageSize + (length % pageSize == 0 ? 0 : 1)
    guard pages <= 1 << 34 else {
        throw .invalid(request, argument: names.length, "bitmap of \(pages) pages is too large")
    }
    return Int((pages + 63) / 64)
}
