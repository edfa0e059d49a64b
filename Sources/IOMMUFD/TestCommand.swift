// TEST-ONLY. IOMMU_TEST_CMD talks to the kernel's iommufd selftest mock driver, which
// exists only in kernels built with CONFIG_IOMMUFD_TEST (never in production kernels:
// others answer ENOTTY). Semantics follow 6.12.117 drivers/iommu/iommufd/selftest.c.
import CIOMMUFD
import SystemPackage

/// TEST-ONLY: a mock device bound to iommufd and attached to a mock domain.
public struct MockDomain: Sendable, Hashable {
    /// Destroying this object unbinds and removes the mock device.
    public let stdevID: MockStdevID
    /// The HWPT the device was attached to (auto-created for an IOAS).
    public let hwptID: HWPTID
    /// The bound device, usable wherever a VFIO device id is (HWPT_ALLOC, GET_HW_INFO...).
    public let deviceID: IOMMUFDDeviceID

    public init(stdevID: MockStdevID, hwptID: HWPTID, deviceID: IOMMUFDDeviceID) {
        self.stdevID = stdevID
        self.hwptID = hwptID
        self.deviceID = deviceID
    }
}

/// TEST-ONLY: `mock_domain_flags.dev_flags`.
public struct MockDeviceFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The mock IOMMU reports no dirty tracking for this device.
    public static let noDirty = MockDeviceFlags(rawValue: UInt32(MOCK_FLAGS_DEVICE_NO_DIRTY))
    /// The mock domain uses huge IOVA pages. 6.12 only: MOCK_FLAGS_DEVICE_HUGE_IOVA (1 << 1)
    /// is gone from the 7.3 uAPI (so from CIOMMUFD) and 7.3 rejects it with EINVAL.
    public static let hugeIOVA = MockDeviceFlags(rawValue: 1 << 1)
    /// PASID-capable mock device (6.15+).
    public static let pasid = MockDeviceFlags(rawValue: UInt32(MOCK_FLAGS_DEVICE_PASID))
}

/// TEST-ONLY: `create_access.flags`.
public struct MockAccessFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The access pins pages (needed for `accessPages`); without it only `accessRW` works.
    public static let needsPinPages = MockAccessFlags(rawValue: UInt32(MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES))
}

/// TEST-ONLY: `access_pages.flags`.
public struct MockAccessPagesFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let write = MockAccessPagesFlags(rawValue: UInt32(MOCK_FLAGS_ACCESS_WRITE))
    /// syzkaller mode: the IOVA is an offset into the access's IOAS.
    public static let syz = MockAccessPagesFlags(rawValue: UInt32(MOCK_FLAGS_ACCESS_SYZ))
}

/// TEST-ONLY: `access_rw.flags`.
public struct MockAccessRWFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Write the buffer into the IOAS (else read from it).
    public static let write = MockAccessRWFlags(rawValue: UInt32(MOCK_ACCESS_RW_WRITE))
    /// Force the page-by-page slow path.
    public static let slowPath = MockAccessRWFlags(rawValue: UInt32(MOCK_ACCESS_RW_SLOW_PATH))
}

/// TEST-ONLY: an in-kernel "access" (an emulated-device user of an IOAS), owned through
/// its fd. Its `id` is that fd's number: the mock driver looks accesses up by fd.
/// Closing the fd (deinit) unpins everything and destroys the access.
public struct MockAccess: ~Copyable {
    public let id: AccessID
    public let accessFD: KernelFD

    init(accessFD: KernelFD, raw: Int32) {
        self.id = AccessID(rawValue: UInt32(bitPattern: raw))
        self.accessFD = accessFD
    }

    /// Closes the access fd, reporting close(2)'s error.
    public consuming func close() throws(IOMMUFDError) {
        let r = accessFD.close()
        if r < 0 { throw .system("close", Errno(rawValue: -r), on: "mock access") }
    }

    deinit { _ = accessFD.close() }
}

/// TEST-ONLY: IOMMU_TEST_CMD operations of the 6.12 mock driver.
public struct TestCommands: Sendable {
    public let fd: KernelFD

    public init(fd: KernelFD) { self.fd = fd }

    /// ADD_RESERVED: reserve `[start, start + length)` in `ioas` (like a PCI window or MSI range).
    public func addReserved(_ ioas: IOASID, start: UInt64, length: UInt64) throws(IOMMUFDError) {
        if length == 0 { throw .invalid(.testCmd, argument: "add_reserved.length", "length is zero") }
        if start.addingReportingOverflow(length - 1).overflow {
            throw .invalid(.testCmd, argument: "add_reserved.start", "start + length wraps past 2^64", errno: .overflow)
        }
        var cmd = Self.command(IOMMU_TEST_OP_ADD_RESERVED, id: ioas.rawValue)
        cmd.add_reserved.start = start
        cmd.add_reserved.length = length
        try run(&cmd)
    }

    /// MOCK_DOMAIN: create a mock device, bind it, and attach it to `pt` (an IOAS gets an auto domain).
    public func mockDomain(_ pt: some PageTableID) throws(IOMMUFDError) -> MockDomain {
        var cmd = Self.command(IOMMU_TEST_OP_MOCK_DOMAIN, id: pt.rawValue)
        try run(&cmd)
        return MockDomain(stdevID: MockStdevID(rawValue: cmd.mock_domain.out_stdev_id),
                          hwptID: HWPTID(rawValue: cmd.mock_domain.out_hwpt_id),
                          deviceID: IOMMUFDDeviceID(rawValue: cmd.mock_domain.out_idev_id))
    }

    /// MOCK_DOMAIN_FLAGS: like `mockDomain`, with device flags.
    public func mockDomain(_ pt: some PageTableID, flags: MockDeviceFlags) throws(IOMMUFDError) -> MockDomain {
        var cmd = Self.command(IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, id: pt.rawValue)
        cmd.mock_domain_flags.dev_flags = flags.rawValue
        try run(&cmd)
        return MockDomain(stdevID: MockStdevID(rawValue: cmd.mock_domain_flags.out_stdev_id),
                          hwptID: HWPTID(rawValue: cmd.mock_domain_flags.out_hwpt_id),
                          deviceID: IOMMUFDDeviceID(rawValue: cmd.mock_domain_flags.out_idev_id))
    }

    /// MOCK_DOMAIN_REPLACE: re-attach the mock device to `pt`. Returns the HWPT now attached.
    @discardableResult
    public func mockDomainReplace(_ stdev: MockStdevID, with pt: some PageTableID) throws(IOMMUFDError) -> HWPTID {
        var cmd = Self.command(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, id: stdev.rawValue)
        cmd.mock_domain_replace.pt_id = pt.rawValue
        try run(&cmd)
        return HWPTID(rawValue: cmd.mock_domain_replace.pt_id)
    }

    /// MD_CHECK_MAP: every mock-domain page of `pt` in the range maps the page under `userVA`.
    /// All three values must be 2 KiB (MOCK_IO_PAGE_SIZE) aligned; EINVAL means a mismatch.
    public func checkMap(_ pt: some PageTableID, iova: UInt64, length: UInt64, userVA: UInt64) throws(IOMMUFDError) {
        var cmd = Self.command(IOMMU_TEST_OP_MD_CHECK_MAP, id: pt.rawValue)
        cmd.check_map.iova = iova
        cmd.check_map.length = length
        cmd.check_map.uptr = userVA
        try run(&cmd)
    }

    /// MD_CHECK_REFS: each page under `[userVA, userVA + length)` is pinned `refs` times
    /// (page aligned; EIO means a different count).
    public func checkRefs(userVA: UInt64, length: UInt64, refs: UInt32) throws(IOMMUFDError) {
        var cmd = Self.command(IOMMU_TEST_OP_MD_CHECK_REFS, id: 0)
        cmd.check_refs.length = length
        cmd.check_refs.uptr = userVA
        cmd.check_refs.refs = refs
        try run(&cmd)
    }

    /// CREATE_ACCESS on `ioas`. The returned owner closes the access fd on deinit.
    public func createAccess(_ ioas: IOASID, flags: MockAccessFlags = []) throws(IOMMUFDError) -> MockAccess {
        var cmd = Self.command(IOMMU_TEST_OP_CREATE_ACCESS, id: ioas.rawValue)
        cmd.create_access.flags = flags.rawValue
        try run(&cmd)
        let raw = Int32(bitPattern: cmd.create_access.out_access_fd)
        return MockAccess(accessFD: KernelFD(adopting: raw, driver: fd.driver), raw: raw)
    }

    /// ACCESS_PAGES: pin `[iova, iova + length)` through the access and check the pages
    /// match `userVA` (0 skips the check). Returns the pin's id for `destroyAccessPages`.
    public func accessPages(_ access: AccessID, iova: UInt64, length: UInt64, userVA: UInt64,
                            flags: MockAccessPagesFlags = []) throws(IOMMUFDError) -> UInt32 {
        if length == 0 { throw .invalid(.testCmd, argument: "access_pages.length", "length is zero") }
        var cmd = Self.command(IOMMU_TEST_OP_ACCESS_PAGES, id: access.rawValue)
        cmd.access_pages.flags = flags.rawValue
        cmd.access_pages.iova = iova
        cmd.access_pages.length = length
        cmd.access_pages.uptr = userVA
        try run(&cmd)
        return cmd.access_pages.out_access_pages_id
    }

    /// DESTROY_ACCESS_PAGES: unpin what `accessPages` returned `pagesID` for (ENOENT: no such pin).
    public func destroyAccessPages(_ access: AccessID, pagesID: UInt32) throws(IOMMUFDError) {
        var cmd = Self.command(IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, id: access.rawValue)
        cmd.destroy_access_pages.access_pages_id = pagesID
        try run(&cmd)
    }

    /// ACCESS_RW: copy between `buffer` and the IOAS at `iova` through the access
    /// (`.write`: buffer → IOAS, else IOAS → buffer).
    public func accessRW(_ access: AccessID, iova: UInt64, buffer: UnsafeMutableRawBufferPointer,
                         flags: MockAccessRWFlags = []) throws(IOMMUFDError) {
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            throw .invalid(.testCmd, argument: "access_rw.length", "empty buffer")
        }
        var cmd = Self.command(IOMMU_TEST_OP_ACCESS_RW, id: access.rawValue)
        cmd.access_rw.iova = iova
        cmd.access_rw.length = UInt64(buffer.count)
        cmd.access_rw.uptr = userPointer(base)
        cmd.access_rw.flags = flags.rawValue
        try run(&cmd)
    }

    /// SET_TEMP_MEMORY_LIMIT: cap the pinning batch buffer at `limit` bytes (forces the
    /// batch code's small-memory paths); at least 12 bytes. Global for the whole kernel.
    public func setTempMemoryLimit(_ limit: UInt32) throws(IOMMUFDError) {
        if limit < 12 {
            throw .invalid(.testCmd, argument: "memory_limit.limit", "below the 12-byte batch element size")
        }
        var cmd = Self.command(IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT, id: 0)
        cmd.memory_limit.limit = limit
        try run(&cmd)
    }

    /// ACCESS_REPLACE_IOAS: move the access to `ioas`.
    public func accessReplaceIOAS(_ access: AccessID, with ioas: IOASID) throws(IOMMUFDError) {
        var cmd = Self.command(IOMMU_TEST_OP_ACCESS_REPLACE_IOAS, id: access.rawValue)
        cmd.access_replace_ioas.ioas_id = ioas.rawValue
        try run(&cmd)
    }

    /// DIRTY: mark pages dirty in a mock domain with dirty tracking: bit i of `bitmap`
    /// dirties `iova + i * pageSize` if mapped. Returns how many pages were marked.
    @discardableResult
    public func dirty(_ hwpt: HWPTID, iova: UInt64, length: UInt64, pageSize: UInt64,
                      bitmap: [UInt64]) throws(IOMMUFDError) -> UInt64 {
        let pages = try validateDirtyRange(.testCmd, iova: iova, length: length, pageSize: pageSize)
        if bitmap.count * 64 < pages {
            throw .invalid(.testCmd, argument: "dirty.uptr", "bitmap has \(bitmap.count * 64) bits for \(pages) pages")
        }
        var cmd = Self.command(IOMMU_TEST_OP_DIRTY, id: hwpt.rawValue)
        cmd.dirty.iova = iova
        cmd.dirty.length = length
        cmd.dirty.page_size = pageSize
        try withArrayBuffer(bitmap) { (buf) throws(IOMMUFDError) in
            cmd.dirty.uptr = userPointer(buf.baseAddress)
            try run(&cmd)
        }
        return cmd.dirty.out_nr_dirty
    }

    /// MD_CHECK_IOTLB: the mock nested domain's IOTLB entry `id` (0...3) holds `expected`
    /// (EINVAL otherwise).
    public func checkIOTLB(_ hwpt: HWPTID, id: UInt32, expected: UInt32) throws(IOMMUFDError) {
        if id > UInt32(MOCK_NESTED_DOMAIN_IOTLB_ID_MAX) {
            throw .invalid(.testCmd, argument: "check_iotlb.id", "IOTLB id above \(MOCK_NESTED_DOMAIN_IOTLB_ID_MAX)")
        }
        var cmd = Self.command(IOMMU_TEST_OP_MD_CHECK_IOTLB, id: hwpt.rawValue)
        cmd.check_iotlb.id = id
        cmd.check_iotlb.iotlb = expected
        try run(&cmd)
    }

    /// TRIGGER_IOPF: the mock device reports a page request (last page of its group);
    /// a PASID other than 0 (IOMMU_NO_PASID) is flagged valid.
    public func triggerIOPF(_ device: IOMMUFDDeviceID, pasid: UInt32, groupID: UInt32,
                            permissions: PageFault.Permissions, address: UInt64) throws(IOMMUFDError) {
        var cmd = Self.command(IOMMU_TEST_OP_TRIGGER_IOPF, id: 0)
        cmd.trigger_iopf.dev_id = device.rawValue
        cmd.trigger_iopf.pasid = pasid
        cmd.trigger_iopf.grpid = groupID
        cmd.trigger_iopf.perm = permissions.rawValue
        cmd.trigger_iopf.addr = address
        try run(&cmd)
    }

    static func command(_ op: Int, id: UInt32) -> iommu_test_cmd {
        var cmd = iommu_test_cmd()
        cmd.size = UInt32(MemoryLayout<iommu_test_cmd>.size)
        cmd.op = UInt32(op)
        cmd.id = id
        return cmd
    }

    func run(_ cmd: inout iommu_test_cmd) throws(IOMMUFDError) {
        let filled = cmd
        cmd = try fd.raw.testCommand(op: filled.op, id: filled.id) { $0 = filled }
    }
}

extension IOMMUFD {
    /// TEST-ONLY: the IOMMUFD_TEST mock-driver commands on this descriptor.
    public var testCommands: TestCommands { TestCommands(fd: fd) }
}

extension iommu_test_cmd: TraceableArgument {
    static let opNames: [UInt32: String] = [
        1: "ADD_RESERVED", 2: "MOCK_DOMAIN", 3: "MD_CHECK_MAP", 4: "MD_CHECK_REFS", 5: "CREATE_ACCESS",
        6: "DESTROY_ACCESS_PAGES", 7: "ACCESS_PAGES", 8: "ACCESS_RW", 9: "SET_TEMP_MEMORY_LIMIT",
        10: "MOCK_DOMAIN_REPLACE", 11: "ACCESS_REPLACE_IOAS", 12: "MOCK_DOMAIN_FLAGS", 13: "DIRTY",
        14: "MD_CHECK_IOTLB", 15: "TRIGGER_IOPF", 16: "DEV_CHECK_CACHE", 17: "TRIGGER_VEVENT",
        18: "PASID_ATTACH", 19: "PASID_REPLACE", 20: "PASID_DETACH", 21: "PASID_CHECK_HWPT",
        22: "DMABUF_GET", 23: "DMABUF_REVOKE",
    ]

    /// "IOMMU_TEST_OP_<NAME>" for an op number.
    public static func opName(_ op: UInt32) -> String {
        "IOMMU_TEST_OP_" + (opNames[op] ?? String(op))
    }

    public var traceFields: [TraceField] {
        var fields = [TraceField("size", size), TraceField("op", Self.opName(op)), TraceField("id", id)]
        // The union's first 40 bytes cover every 6.12 payload.
        let payload = withUnsafeBytes(of: self) { raw in
            raw[16..<Swift.min(56, raw.count)].map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
        }
        fields.append(TraceField("payload", payload))
        return fields
    }
}
