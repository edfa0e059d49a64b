import Glibc
import IOMMUFD
import SystemPackage

/// An mmap of (part of) a device region. munmap on deinit.
///
/// Loads and stores are single, aligned accesses of the given width through
/// non-inlined, unoptimized accessors, so the compiler neither merges, splits nor
/// caches them: the closest Swift gets to `volatile` for MMIO.
public struct MappedRegion: ~Copyable {
    public let base: UnsafeMutableRawPointer
    public let length: Int
    public let region: RegionIndex
    /// Offset of `base` within the region.
    public let offset: UInt64

    /// Takes ownership of an existing mapping (munmap'ed on deinit).
    public init(adopting base: UnsafeMutableRawPointer, length: Int, region: RegionIndex, offset: UInt64) {
        self.base = base
        self.length = length
        self.region = region
        self.offset = offset
    }

    deinit { munmap(base, length) }

    public func load32(at offset: Int) throws(IOMMUFDError) -> UInt32 {
        try check(offset, 4, "load32")
        return UInt32(littleEndian: Self.mmioLoad32(base + offset))
    }

    public func load64(at offset: Int) throws(IOMMUFDError) -> UInt64 {
        try check(offset, 8, "load64")
        return UInt64(littleEndian: Self.mmioLoad64(base + offset))
    }

    public func store32(_ value: UInt32, at offset: Int) throws(IOMMUFDError) {
        try check(offset, 4, "store32")
        Self.mmioStore32(base + offset, value.littleEndian)
    }

    public func store64(_ value: UInt64, at offset: Int) throws(IOMMUFDError) {
        try check(offset, 8, "store64")
        Self.mmioStore64(base + offset, value.littleEndian)
    }

    /// An access outside the mapping would fault the process: refuse it with a typed error.
    private func check(_ offset: Int, _ width: Int, _ what: String) throws(IOMMUFDError) {
        guard offset >= 0, offset <= length - width, offset % width == 0 else {
            throw IOMMUFDError(ioctl: "mmap(\(region)) \(what)", errno: .invalidArgument, origin: .validation,
                               argument: "offset",
                               meaning: "offset \(offset) is outside the \(length)-byte mapping or not \(width)-byte aligned")
        }
    }

    @inline(never) @_optimize(none)
    static func mmioLoad32(_ p: UnsafeMutableRawPointer) -> UInt32 { p.load(as: UInt32.self) }
    @inline(never) @_optimize(none)
    static func mmioLoad64(_ p: UnsafeMutableRawPointer) -> UInt64 { p.load(as: UInt64.self) }
    @inline(never) @_optimize(none)
    static func mmioStore32(_ p: UnsafeMutableRawPointer, _ v: UInt32) { p.storeBytes(of: v, as: UInt32.self) }
    @inline(never) @_optimize(none)
    static func mmioStore64(_ p: UnsafeMutableRawPointer, _ v: UInt64) { p.storeBytes(of: v, as: UInt64.self) }
}

extension VFIODevice {
    /// mmaps `length` bytes at `offset` of `region` (length nil: to the region's end).
    /// The range must be page-aligned, inside the region and, when the region has sparse
    /// areas, inside one of them (the rest is trapped by the kernel, e.g. the MSI-X table).
    public func mapRegion(_ region: RegionIndex, offset: UInt64 = 0, length: UInt64? = nil) throws(IOMMUFDError) -> MappedRegion {
        let info = try cachedRegion(region)
        let len = length ?? (info.size > offset ? info.size - offset : 0)
        func reject(_ arg: String, _ why: String) -> IOMMUFDError {
            IOMMUFDError(ioctl: "mmap(\(name) \(region))", errno: .invalidArgument, origin: .validation, argument: arg, meaning: why)
        }
        guard info.flags.contains(.mmap) else { throw reject("region", "\(region) does not allow mmap") }
        let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        guard len > 0, offset % page == 0 else { throw reject("offset", "offset must be page-aligned and length non-zero") }
        let (end, overflow) = offset.addingReportingOverflow(len)
        guard !overflow, end <= info.size else { throw reject("length", "range is outside \(region) (size 0x\(String(info.size, radix: 16)))") }
        if let areas = info.sparseAreas,
           !areas.contains(where: { offset >= $0.offset && end <= $0.offset &+ $0.size }) {
            throw reject("offset", "range is not inside one of the region's sparse mmap areas \(areas.map { "0x\(String($0.offset, radix: 16))+0x\(String($0.size, radix: 16))" })")
        }
        guard let raw = fd.rawValue else { throw .system("mmap", .badFileDescriptor, on: "\(name) \(region)") }
        var prot: Int32 = 0
        if info.flags.contains(.read) { prot |= PROT_READ }
        if info.flags.contains(.write) { prot |= PROT_WRITE }
        let p = mmap(nil, Int(len), prot, MAP_SHARED, raw, off_t(Int64(bitPattern: info.offset + offset)))
        guard let p, p != MAP_FAILED else {
            throw .system("mmap", Errno(rawValue: Glibc.errno), on: "\(name) \(region)", argument: "offset 0x\(String(offset, radix: 16))")
        }
        return MappedRegion(adopting: p, length: Int(len), region: region, offset: offset)
    }
}
