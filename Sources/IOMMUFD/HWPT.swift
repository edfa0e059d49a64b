import CIOMMUFD
import SystemPackage

/// IOMMU_HWPT_ALLOC flags.
public struct HWPTAllocFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The HWPT may be the stage-2 parent of nested HWPTs or vIOMMUs. The C constant is `IOMMU_HWPT_ALLOC_NEST_PARENT`.
    public static let nestParent = HWPTAllocFlags(rawValue: UInt32(IOMMU_HWPT_ALLOC_NEST_PARENT.rawValue))
    /// The domain must support dirty tracking. The C constant is `IOMMU_HWPT_ALLOC_DIRTY_TRACKING`.
    public static let dirtyTracking = HWPTAllocFlags(rawValue: UInt32(IOMMU_HWPT_ALLOC_DIRTY_TRACKING.rawValue))
    /// `fault_id` is valid; set automatically when a fault queue is given. The C constant is `IOMMU_HWPT_FAULT_ID_VALID`.
    public static let faultIDValid = HWPTAllocFlags(rawValue: UInt32(IOMMU_HWPT_FAULT_ID_VALID.rawValue))
    /// The HWPT may be attached to PASIDs (6.15+). The C constant is `IOMMU_HWPT_ALLOC_PASID`.
    public static let pasid = HWPTAllocFlags(rawValue: UInt32(IOMMU_HWPT_ALLOC_PASID.rawValue))
}

/// VT-d stage-1 page-table attributes (`iommu_hwpt_vtd_s1.flags`).
public struct VTdStage1Flags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Supervisor requests. The C constant is `IOMMU_VTD_S1_SRE`.
    public static let supervisorRequests = VTdStage1Flags(rawValue: UInt64(IOMMU_VTD_S1_SRE.rawValue))
    /// Extended access flag. The C constant is `IOMMU_VTD_S1_EAFE`.
    public static let extendedAccessFlag = VTdStage1Flags(rawValue: UInt64(IOMMU_VTD_S1_EAFE.rawValue))
    /// Write protect. The C constant is `IOMMU_VTD_S1_WPE`.
    public static let writeProtect = VTdStage1Flags(rawValue: UInt64(IOMMU_VTD_S1_WPE.rawValue))
}

/// Driver data of a nested HWPT: the guest's stage-1 description.
public enum HWPTData: Sendable, Hashable {
    /// `IOMMU_HWPT_DATA_VTD_S1`: a guest VT-d first-stage table.
    case vtdStage1(flags: VTdStage1Flags, pgtblAddr: UInt64, addrWidth: UInt32)
    /// `IOMMU_HWPT_DATA_ARM_SMMUV3` (6.13+): the guest STE's first two words.
    case armSMMUv3(ste0: UInt64, ste1: UInt64)
    /// `IOMMU_HWPT_DATA_AMD_GUEST` (patch series): the guest DTE.
    case amdGuest(dte: SIMD4<UInt64>)
    /// TEST-ONLY `IOMMU_HWPT_DATA_SELFTEST`: the mock nested domain's initial IOTLB value.
    case selftest(iotlb: UInt32)
    /// Any type, sent as is.
    case raw(type: UInt32, bytes: [UInt8])

    /// The kernel's `data_type`.
    public var type: UInt32 {
        switch self {
        case .vtdStage1: UInt32(IOMMU_HWPT_DATA_VTD_S1.rawValue)
        case .armSMMUv3: UInt32(IOMMU_HWPT_DATA_ARM_SMMUV3.rawValue)
        case .amdGuest: UInt32(IOMMU_HWPT_DATA_AMD_GUEST.rawValue)
        case .selftest: UInt32(IOMMU_HWPT_DATA_SELFTEST)
        case .raw(let type, _): type
        }
    }

    /// The bytes `data_uptr` points at.
    public var bytes: [UInt8] {
        switch self {
        case .vtdStage1(let flags, let pgtbl, let width):
            var s = iommu_hwpt_vtd_s1()
            s.flags = flags.rawValue
            s.pgtbl_addr = pgtbl
            s.addr_width = width
            return structBytes(s)
        case .armSMMUv3(let ste0, let ste1):
            var s = iommu_hwpt_arm_smmuv3()
            s.ste = (ste0.littleEndian, ste1.littleEndian)
            return structBytes(s)
        case .amdGuest(let dte):
            var s = iommu_hwpt_amd_guest()
            s.dte = (dte[0], dte[1], dte[2], dte[3])
            return structBytes(s)
        case .selftest(let iotlb):
            // iotlb only (6.12's 4 bytes): 7.3 added pagetable_type, 0 (default) when absent.
            return Array(structBytes(iommu_hwpt_selftest(iotlb: iotlb, pagetable_type: 0)).prefix(4))
        case .raw(_, let bytes):
            return bytes
        }
    }
}

/// The object a nested HWPT is built on.
public enum NestingParent: Sendable, Hashable {
    /// A HWPT allocated with `.nestParent`.
    case hwpt(HWPTID)
    /// A vIOMMU (6.13+), which holds the nest parent.
    case viommu(VIOMMUID)

    var rawValue: UInt32 {
        switch self {
        case .hwpt(let id): id.rawValue
        case .viommu(let id): id.rawValue
        }
    }
}

extension IOMMUFD {
    /// IOMMU_HWPT_ALLOC of a paging HWPT that maps `ioas` for `device`.
    /// Passing `fault` sets `IOMMU_HWPT_FAULT_ID_VALID` (I/O page faults go to that queue).
    public func allocHWPT(device: IOMMUFDDeviceID, ioas: IOASID, flags: HWPTAllocFlags = [],
                          fault: FaultQueueID? = nil) throws(IOMMUFDError) -> HWPT {
        try fd.allocHWPT(device: device, pt: ioas.rawValue, flags: flags, fault: fault, data: nil)
    }

    /// IOMMU_HWPT_ALLOC of a nested HWPT: a user-managed stage 1 on `parent`.
    public func allocNestedHWPT(device: IOMMUFDDeviceID, parent: NestingParent, data: HWPTData,
                                flags: HWPTAllocFlags = [], fault: FaultQueueID? = nil) throws(IOMMUFDError) -> HWPT {
        try fd.allocHWPT(device: device, pt: parent.rawValue, flags: flags, fault: fault, data: data)
    }

    /// IOMMU_HWPT_SET_DIRTY_TRACKING on any paging HWPT (also one made by a mock domain).
    public func setDirtyTracking(_ hwpt: HWPTID, enabled: Bool) throws(IOMMUFDError) {
        try fd.setDirtyTracking(hwpt, enabled: enabled)
    }

    /// IOMMU_HWPT_GET_DIRTY_BITMAP of `[iova, iova + length)` at `pageSize` granularity.
    /// Clears the dirty bits it reads unless `clear` is false (`NO_CLEAR`).
    public func dirtyBitmap(_ hwpt: HWPTID, iova: UInt64, length: UInt64, pageSize: UInt64,
                            clear: Bool = true) throws(IOMMUFDError) -> DirtyBitmap {
        try fd.dirtyBitmap(hwpt, iova: iova, length: length, pageSize: pageSize, clear: clear)
    }

    /// IOMMU_HWPT_INVALIDATE of a nested HWPT's caches. Returns how many entries the kernel handled.
    @discardableResult
    public func invalidate(_ hwpt: HWPTID, _ request: InvalidationRequest) throws(InvalidationError) -> Int {
        try fd.invalidate(target: hwpt.rawValue, request)
    }
}

extension KernelObject where ID == HWPTID {
    public func setDirtyTracking(enabled: Bool) throws(IOMMUFDError) {
        try fd.setDirtyTracking(id, enabled: enabled)
    }

    public func dirtyBitmap(iova: UInt64, length: UInt64, pageSize: UInt64,
                            clear: Bool = true) throws(IOMMUFDError) -> DirtyBitmap {
        try fd.dirtyBitmap(id, iova: iova, length: length, pageSize: pageSize, clear: clear)
    }

    @discardableResult
    public func invalidate(_ request: InvalidationRequest) throws(InvalidationError) -> Int {
        try fd.invalidate(target: id.rawValue, request)
    }
}

// MARK: - Dirty tracking

/// What IOMMU_HWPT_GET_DIRTY_BITMAP reported: one bit per page, bit i = `iova + i * pageSize`.
public struct DirtyBitmap: Sendable, Hashable {
    public let iova: UInt64
    public let length: UInt64
    public let pageSize: UInt64
    /// The kernel's bitmap, 64 pages per word, least significant bit first.
    public let bits: [UInt64]

    public init(iova: UInt64, length: UInt64, pageSize: UInt64, bits: [UInt64]) {
        self.iova = iova
        self.length = length
        self.pageSize = pageSize
        self.bits = bits
    }

    public var pageCount: Int { pageSize == 0 ? 0 : Int(clamping: length / pageSize) }

    /// The pages that have a bit: a bitmap built by hand may be shorter than its range,
    /// and the pages past its end are clean.
    private var pagesWithBits: Int { min(pageCount, bits.count * 64) }

    /// Whether the page containing `address` is dirty (false outside the range).
    public func isDirty(_ address: UInt64) -> Bool {
        guard address >= iova, address - iova < length, pageSize != 0 else { return false }
        let page = Int(clamping: (address - iova) / pageSize)
        return isDirty(page: page)
    }

    /// Whether page `index` of the range is dirty.
    public func isDirty(page index: Int) -> Bool {
        let word = index / 64
        guard index >= 0, index < pageCount, word < bits.count else { return false }
        return bits[word] & (1 << UInt64(index % 64)) != 0
    }

    /// The IOVA of every dirty page, ascending (a hand-built range that runs past 2^64
    /// wraps, as the kernel's never does).
    public var dirtyPages: [UInt64] {
        (0..<pagesWithBits).filter { isDirty(page: $0) }.map { iova &+ UInt64($0) &* pageSize }
    }

    public var dirtyCount: Int {
        (0..<pagesWithBits).reduce(0) { $0 + (isDirty(page: $1) ? 1 : 0) }
    }
}

// MARK: - ioctls

extension KernelFD {
    func allocHWPT(device: IOMMUFDDeviceID, pt: UInt32, flags: HWPTAllocFlags, fault: FaultQueueID?,
                   data: HWPTData?) throws(IOMMUFDError) -> HWPT {
        if flags.contains(.faultIDValid) && fault == nil {
            throw .invalid(.hwptAlloc, argument: "fault_id", "FAULT_ID_VALID needs a fault queue id")
        }
        let id = try raw.allocHWPT(device: device.rawValue, pt: pt,
                                   flags: flags.union(fault == nil ? [] : .faultIDValid).rawValue,
                                   dataType: data?.type ?? UInt32(IOMMU_HWPT_DATA_NONE.rawValue),
                                   data: data?.bytes ?? [], faultID: fault?.rawValue ?? 0)
        return HWPT(id: HWPTID(rawValue: id), fd: self)
    }

    func setDirtyTracking(_ hwpt: HWPTID, enabled: Bool) throws(IOMMUFDError) {
        try raw.setDirtyTracking(hwpt: hwpt.rawValue, flags: enabled ? UInt32(IOMMU_HWPT_DIRTY_TRACKING_ENABLE.rawValue) : 0)
    }

    func dirtyBitmap(_ hwpt: HWPTID, iova: UInt64, length: UInt64, pageSize: UInt64,
                     clear: Bool) throws(IOMMUFDError) -> DirtyBitmap {
        let pages = try validateDirtyRange(.hwptGetDirtyBitmap, iova: iova, length: length, pageSize: pageSize)
        // The kernel only sets bits, so the buffer starts zeroed.
        let words = [UInt64](repeating: 0, count: (pages + 63) / 64)
        let bits = try withArrayBuffer(words) { (buf) throws(IOMMUFDError) in
            try raw.getDirtyBitmap(hwpt: hwpt.rawValue, iova: iova, length: length, pageSize: pageSize,
                                   flags: clear ? 0 : UInt32(IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR.rawValue),
                                   bitmap: UnsafeMutableRawPointer(buf.baseAddress))
            return Array(buf)
        }
        return DirtyBitmap(iova: iova, length: length, pageSize: pageSize, bits: bits)
    }

    func invalidate(target: UInt32, _ request: InvalidationRequest) throws(InvalidationError) -> Int {
        let count = request.count
        let entryLength = request.entryLength
        let bytes = request.bytes
        // entry_len and entry_num are u32 in the uAPI.
        if entryLength > UInt32.max || count > UInt32.max {
            throw InvalidationError(error: .invalid(.hwptInvalidate, argument: "entry_len",
                                                    "entry length \(entryLength) or count \(count) does not fit the u32 field"),
                                    handled: 0, requested: count)
        }
        if entryLength <= 0 || bytes.count != count * entryLength {
            throw InvalidationError(error: .invalid(.hwptInvalidate, argument: "entry_len",
                                                    "entry length \(entryLength) does not divide \(bytes.count) data bytes"),
                                    handled: 0, requested: count)
        }
        var entryCount = UInt32(count)
        do throws(IOMMUFDError) {
            try raw.invalidate(hwpt: target, dataType: request.dataType, entryLength: UInt32(entryLength),
                               entries: bytes, entryCount: &entryCount, nullData: count == 0)
        } catch {
            // entry_num comes back as the number handled, even on failure.
            let handled = min(Int(entryCount), count)
            let where_ = handled < count
                ? "entry \(handled) of \(count) (0-based; \(handled) handled)"
                : "hwpt_id (\(handled) of \(count) handled)"
            let tagged = IOMMUFDError(ioctl: error.ioctl, errno: error.errno, origin: error.origin,
                                      argument: where_, meaning: error.meaning)
            throw InvalidationError(error: tagged, handled: handled, requested: count)
        }
        return Int(entryCount)
    }
}

/// Zero, misaligned or wrapping ranges, and page sizes that are not powers of two.
/// Returns the page count.
func validateDirtyRange(_ request: IoctlRequest, iova: UInt64, length: UInt64,
                        pageSize: UInt64) throws(IOMMUFDError) -> Int {
    if pageSize == 0 { throw .invalid(request, argument: "page_size", "page size is zero") }
    if pageSize & (pageSize - 1) != 0 {
        throw .invalid(request, argument: "page_size", "page size 0x\(String(pageSize, radix: 16)) is not a power of two")
    }
    if length == 0 { throw .invalid(request, argument: "length", "length is zero") }
    if iova % pageSize != 0 { throw .invalid(request, argument: "iova", "iova is not a multiple of the page size") }
    if length % pageSize != 0 { throw .invalid(request, argument: "length", "length is not a multiple of the page size") }
    if iova.addingReportingOverflow(length - 1).overflow {
        throw .invalid(request, argument: "iova", "iova + length wraps past 2^64", errno: .overflow)
    }
    let pages = length / pageSize
    // 2^34 pages is a 2 GiB bitmap: surely a mistake, and allocating it would hurt.
    if pages > 1 << 34 { throw .invalid(request, argument: "length", "bitmap of \(pages) pages is too large") }
    return Int(pages)
}

/// A C struct's bytes.
func structBytes<T>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
}

// MARK: - Trace fields

extension iommu_hwpt_alloc: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("flags", hex: flags), TraceField("dev_id", dev_id),
         TraceField("pt_id", pt_id), TraceField("out_hwpt_id", out_hwpt_id), TraceField("data_type", hex: data_type),
         TraceField("data_len", data_len), TraceField("data_uptr", hex: data_uptr), TraceField("fault_id", fault_id)]
    }
}

extension iommu_hwpt_set_dirty_tracking: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("flags", hex: flags), TraceField("hwpt_id", hwpt_id)]
    }
}

extension iommu_hwpt_get_dirty_bitmap: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("hwpt_id", hwpt_id), TraceField("flags", hex: flags),
         TraceField("iova", hex: iova), TraceField("length", hex: length), TraceField("page_size", hex: page_size),
         TraceField("data", hex: data)]
    }
}

extension iommu_hwpt_invalidate: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("hwpt_id", hwpt_id), TraceField("data_uptr", hex: data_uptr),
         TraceField("data_type", hex: data_type), TraceField("entry_len", entry_len),
         TraceField("entry_num", entry_num)]
    }
}
