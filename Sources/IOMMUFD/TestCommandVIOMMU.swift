// TEST-ONLY. The IOMMU_TEST_CMD ops and mock-driver data types that came after 6.12:
// the mock vIOMMU (6.13+), vEVENTs (6.15+), PASID attachment of mock devices (6.15+) and
// the test dma-buf (7.x).
// Semantics follow 7.3's drivers/iommu/iommufd/selftest.c; a kernel without an op
// answers EOPNOTSUPP (iommufd_test() default case).
import CIOMMUFD

extension TestCommands {
    /// DEV_CHECK_CACHE (6.13+): the mock device's cache entry `id` (0...3) holds `expected`;
    /// EINVAL for another value or an id above MOCK_DEV_CACHE_ID_MAX (selftest.c:1299).
    /// A fresh mock device holds IOMMU_TEST_DEV_CACHE_DEFAULT in every entry; vIOMMU
    /// invalidations that name its vDEVICE clear them.
    public func checkDevCache(_ device: IOMMUFDDeviceID, id: UInt32, expected: UInt32) throws(IOMMUFDError) {
        var cmd = Self.command(IOMMU_TEST_OP_DEV_CHECK_CACHE, id: device.rawValue)
        cmd.check_dev_cache.id = id
        cmd.check_dev_cache.cache = expected
        try run(&cmd)
    }

    /// TRIGGER_VEVENT (6.15+): the mock device reports one vEVENT (its vDEVICE's virt_id) to
    /// the vIOMMU of the nested HWPT it is attached to. ENOENT when it is not attached to a
    /// vIOMMU-based nested HWPT; EOPNOTSUPP when that vIOMMU has no SELFTEST vEVENTQ.
    public func triggerVEvent(_ device: IOMMUFDDeviceID) throws(IOMMUFDError) {
        var cmd = Self.command(IOMMU_TEST_OP_TRIGGER_VEVENT, id: 0)
        cmd.trigger_vevent.dev_id = device.rawValue
        try run(&cmd)
    }

    /// PASID_ATTACH (6.15+): attach PASID `pasid` of the mock device to `pt`. Returns the
    /// HWPT now attached (the auto domain when `pt` is an IOAS).
    @discardableResult
    public func pasidAttach(_ stdev: MockStdevID, pasid: UInt32, to pt: some PageTableID) throws(IOMMUFDError) -> HWPTID {
        var cmd = Self.command(IOMMU_TEST_OP_PASID_ATTACH, id: stdev.rawValue)
        cmd.pasid_attach.pasid = pasid
        cmd.pasid_attach.pt_id = pt.rawValue
        try run(&cmd)
        return HWPTID(rawValue: cmd.pasid_attach.pt_id)
    }

    /// PASID_REPLACE (6.15+): move an attached PASID to `pt`. Returns the HWPT now attached.
    @discardableResult
    public func pasidReplace(_ stdev: MockStdevID, pasid: UInt32, with pt: some PageTableID) throws(IOMMUFDError) -> HWPTID {
        var cmd = Self.command(IOMMU_TEST_OP_PASID_REPLACE, id: stdev.rawValue)
        cmd.pasid_replace.pasid = pasid
        cmd.pasid_replace.pt_id = pt.rawValue
        try run(&cmd)
        return HWPTID(rawValue: cmd.pasid_replace.pt_id)
    }

    /// PASID_DETACH (6.15+): detach a PASID; detaching one that is not attached succeeds too.
    public func pasidDetach(_ stdev: MockStdevID, pasid: UInt32) throws(IOMMUFDError) {
        var cmd = Self.command(IOMMU_TEST_OP_PASID_DETACH, id: stdev.rawValue)
        cmd.pasid_detach.pasid = pasid
        try run(&cmd)
    }

    /// DMABUF_GET (7.x): the test module exports a dma-buf of `length` bytes (rounded up to
    /// PAGE_SIZE, at most 512 pages) and installs an fd for it with `openFlags`. Returns the
    /// ioctl's return value, which the selftest takes as that fd (iommufd_utils.h:571);
    /// 7.3.4's module returns 0 instead (selftest.c:2063), the fd being the lowest free one.
    public func dmabufGet(length: UInt32, openFlags: UInt32) throws(IOMMUFDError) -> Int32 {
        var cmd = Self.command(IOMMU_TEST_OP_DMABUF_GET, id: 0)
        cmd.dmabuf_get.length = length
        cmd.dmabuf_get.open_flags = openFlags
        return try fd.perform(.testCmd, &cmd, argumentName: iommu_test_cmd.opName(cmd.op))
    }

    /// DMABUF_REVOKE (7.x): mark the test dma-buf `dmabufFD` revoked (its iommufd mappings are
    /// invalidated and MAP_FILE of it fails ENODEV) or usable again.
    public func dmabufRevoke(_ dmabufFD: Int32, revoked: Bool) throws(IOMMUFDError) {
        var cmd = Self.command(IOMMU_TEST_OP_DMABUF_REVOKE, id: 0)
        cmd.dmabuf_revoke.dmabuf_fd = dmabufFD
        cmd.dmabuf_revoke.revoked = revoked ? 1 : 0
        try run(&cmd)
    }

    /// PASID_CHECK_HWPT (6.15+): the PASID is attached to `hwpt`, or to nothing when `hwpt`
    /// is nil (EINVAL otherwise; selftest.c:1829).
    public func pasidCheckHWPT(_ stdev: MockStdevID, pasid: UInt32, attached hwpt: HWPTID?) throws(IOMMUFDError) {
        var cmd = Self.command(IOMMU_TEST_OP_PASID_CHECK_HWPT, id: stdev.rawValue)
        cmd.pasid_check.pasid = pasid
        cmd.pasid_check.hwpt_id = hwpt?.rawValue ?? 0
        try run(&cmd)
    }
}

/// TEST-ONLY: one mock vIOMMU invalidation (`iommu_viommu_invalidate_selftest`): clears
/// cache entry `cacheID` (or all with `all`) of the device whose vDEVICE has `virtID`.
public struct SelftestVIOMMUInvalidation: Sendable, Hashable {
    /// `flags`; IOMMU_TEST_INVALIDATE_FLAG_ALL is the only defined bit.
    public var flags: UInt32
    public var virtID: UInt32
    public var cacheID: UInt32

    public init(virtID: UInt32, cacheID: UInt32 = 0, all: Bool = false) {
        self.init(virtID: virtID, cacheID: cacheID, flags: all ? UInt32(IOMMU_TEST_INVALIDATE_FLAG_ALL) : 0)
    }

    /// With raw `flags`, for undefined bits.
    public init(virtID: UInt32, cacheID: UInt32, flags: UInt32) {
        self.flags = flags
        self.virtID = virtID
        self.cacheID = cacheID
    }

    public static var entryLength: Int { MemoryLayout<iommu_viommu_invalidate_selftest>.size }

    var bytes: [UInt8] {
        structBytes(iommu_viommu_invalidate_selftest(flags: flags, vdev_id: virtID, cache_id: cacheID))
    }
}

extension InvalidationRequest {
    /// TEST-ONLY: mock vIOMMU invalidations (IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST), sent to a vIOMMU.
    /// `dataType` overrides the type (e.g. IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID).
    public static func viommuSelftest(_ entries: [SelftestVIOMMUInvalidation],
                                      dataType: UInt32 = UInt32(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST)) -> InvalidationRequest {
        .raw(type: dataType, entryLength: SelftestVIOMMUInvalidation.entryLength, data: entries.flatMap(\.bytes))
    }
}

/// TEST-ONLY: the mock vIOMMU's driver data (`iommu_viommu_selftest`, 6.17+): `inData` goes
/// in; the kernel echoes it in `outData` and stores it in the first word of a two-page
/// region userspace maps from the iommufd fd at `mmapOffset`/`mmapLength`.
public struct SelftestVIOMMUData: Sendable, Hashable {
    public var inData: UInt32
    public private(set) var outData: UInt32 = 0
    public private(set) var mmapOffset: UInt64 = 0
    public private(set) var mmapLength: UInt64 = 0

    public init(inData: UInt32) { self.inData = inData }

    /// The bytes to pass as `allocVIOMMU(data:)`.
    public var bytes: [UInt8] { structBytes(iommu_viommu_selftest(in_data: inData, out_data: 0, out_mmap_offset: 0, out_mmap_length: 0)) }

    /// Reads what the kernel wrote back into `bytes`.
    public init?(returned bytes: [UInt8]) {
        guard bytes.count >= MemoryLayout<iommu_viommu_selftest>.size else { return nil }
        let s = bytes.withUnsafeBytes { $0.loadUnaligned(as: iommu_viommu_selftest.self) }
        inData = s.in_data
        outData = s.out_data
        mmapOffset = s.out_mmap_offset
        mmapLength = s.out_mmap_length
    }
}
