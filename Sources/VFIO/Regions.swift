import CIOMMUFD
import IOMMUFD
import Synchronization

/// A vfio-pci region index. 0-5 are the BARs; >= 9 are device-specific regions.
public struct RegionIndex: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static func bar(_ n: Int) -> RegionIndex { RegionIndex(rawValue: UInt32(truncatingIfNeeded: n)) }
    public static let bar0 = RegionIndex(rawValue: UInt32(VFIO_PCI_BAR0_REGION_INDEX))
    public static let rom = RegionIndex(rawValue: UInt32(VFIO_PCI_ROM_REGION_INDEX))
    public static let config = RegionIndex(rawValue: UInt32(VFIO_PCI_CONFIG_REGION_INDEX))
    public static let vga = RegionIndex(rawValue: UInt32(VFIO_PCI_VGA_REGION_INDEX))

    public var description: String {
        switch rawValue {
        case 0...5: return "BAR\(rawValue)"
        case 6: return "ROM"
        case 7: return "config"
        case 8: return "VGA"
        default: return "region\(rawValue)"
        }
    }
}

/// VFIO_REGION_INFO_FLAG_*.
public struct RegionFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let read = RegionFlags(rawValue: UInt32(VFIO_REGION_INFO_FLAG_READ))
    public static let write = RegionFlags(rawValue: UInt32(VFIO_REGION_INFO_FLAG_WRITE))
    public static let mmap = RegionFlags(rawValue: UInt32(VFIO_REGION_INFO_FLAG_MMAP))
    public static let caps = RegionFlags(rawValue: UInt32(VFIO_REGION_INFO_FLAG_CAPS))
}

/// One mmap-able window of a region (VFIO_REGION_INFO_CAP_SPARSE_MMAP).
public struct SparseMmapArea: Sendable, Hashable {
    public let offset: UInt64
    public let size: UInt64
    public init(offset: UInt64, size: UInt64) { self.offset = offset; self.size = size }
}

/// What VFIO_DEVICE_GET_REGION_INFO reports, with its capabilities decoded.
public struct RegionInfo: Sendable, Hashable {
    public let index: RegionIndex
    public let flags: RegionFlags
    public let size: UInt64
    /// Where the region starts in the device fd (for pread/pwrite/mmap).
    public let offset: UInt64
    /// Only these windows may be mmap'ed, when present (e.g. around an MSI-X table).
    public let sparseAreas: [SparseMmapArea]?
    /// Device-specific type/subtype (VFIO_REGION_INFO_CAP_TYPE).
    public let type: (type: UInt32, subtype: UInt32)?
    /// The MSI-X table in this BAR may be mmap'ed (VFIO_REGION_INFO_CAP_MSIX_MAPPABLE).
    public let msixMappable: Bool
    public let capabilities: [InfoCapability]

    public static func == (a: Self, b: Self) -> Bool {
        a.index == b.index && a.flags == b.flags && a.size == b.size && a.offset == b.offset
            && a.sparseAreas == b.sparseAreas && a.type?.type == b.type?.type
            && a.type?.subtype == b.type?.subtype && a.capabilities == b.capabilities
    }
    public func hash(into h: inout Hasher) { h.combine(index); h.combine(offset); h.combine(size) }

    /// Decodes the known capabilities of a region's chain.
    init(index: RegionIndex, raw: vfio_region_info, capabilities: [InfoCapability]) {
        self.index = index
        flags = RegionFlags(rawValue: raw.flags)
        size = raw.size
        offset = raw.offset
        self.capabilities = capabilities
        var sparse: [SparseMmapArea]?
        var type: (UInt32, UInt32)?
        var msix = false
        for cap in capabilities {
            switch Int32(cap.id) {
            case VFIO_REGION_INFO_CAP_SPARSE_MMAP:
                // Payload: nr_areas, reserved, then {offset, size} pairs. Clamp to what arrived.
                let n = Int(cap.payload.le(UInt32.self, at: 0) ?? 0)
                var areas: [SparseMmapArea] = []
                for i in 0..<min(n, (cap.payload.count - 8) / 16) {
                    let base = 8 + 16 * i
                    if let o = cap.payload.le(UInt64.self, at: base), let s = cap.payload.le(UInt64.self, at: base + 8) {
                        areas.append(SparseMmapArea(offset: o, size: s))
                    }
                }
                sparse = areas
            case VFIO_REGION_INFO_CAP_TYPE:
                if let t = cap.payload.le(UInt32.self, at: 0), let s = cap.payload.le(UInt32.self, at: 4) { type = (t, s) }
            case VFIO_REGION_INFO_CAP_MSIX_MAPPABLE:
                msix = true
            default:
                break
            }
        }
        sparseAreas = sparse
        self.type = type
        msixMappable = msix
    }
}

/// Region infos fetched so far: read/write need a region's offset on every access.
final class RegionCache: Sendable {
    private let infos = Mutex<[UInt32: RegionInfo]>([:])
    /// Offset, size and flags of regions 0-15 (BARs, ROM, config, VGA) for register
    /// accesses: a slot copied under the lock, no hashing and no reference counting.
    private let windows = Mutex<[RegionWindow?]>(Array(repeating: nil, count: 16))

    func get(_ i: RegionIndex) -> RegionInfo? { infos.withLock { $0[i.rawValue] } }

    func window(_ i: RegionIndex) -> RegionWindow? {
        guard i.rawValue < 16 else { return get(i).map(RegionWindow.init) }
        return windows.withLock { $0[Int(i.rawValue)] }
    }

    func put(_ r: RegionInfo) {
        infos.withLock { $0[r.index.rawValue] = r }
        if r.index.rawValue < 16 { windows.withLock { $0[Int(r.index.rawValue)] = RegionWindow(r) } }
    }
}

/// What a pread/pwrite of a region needs to know.
struct RegionWindow: Sendable {
    let offset: UInt64
    let size: UInt64
    let flags: RegionFlags
    init(_ r: RegionInfo) {
        offset = r.offset
        size = r.size
        flags = r.flags
    }
}

extension VFIODevice {
    /// VFIO_DEVICE_GET_REGION_INFO with the argsz two-pass for the capability chain.
    public func regionInfo(_ index: RegionIndex) throws(IOMMUFDError) -> RegionInfo {
        var header = vfio_region_info()
        header.index = index.rawValue
        let out = try fd.performGrowing(.vfioDeviceGetRegionInfo, header: bytes(of: header), argumentName: "index")
        let raw = load(vfio_region_info.self, from: out, initial: vfio_region_info())
        let caps = raw.flags & UInt32(VFIO_REGION_INFO_FLAG_CAPS) != 0
            ? InfoCapability.chain(in: out, first: raw.cap_offset, headerSize: MemoryLayout<vfio_region_info>.size) : []
        let info = RegionInfo(index: index, raw: raw, capabilities: caps)
        regions.put(info)
        return info
    }

    func cachedRegion(_ index: RegionIndex) throws(IOMMUFDError) -> RegionInfo {
        if let r = regions.get(index) { return r }
        return try regionInfo(index)
    }

    func cachedWindow(_ index: RegionIndex) throws(IOMMUFDError) -> RegionWindow {
        if let w = regions.window(index) { return w }
        return RegionWindow(try regionInfo(index))
    }
}
