import CIOMMUFD
import SystemPackage

/// What IOMMU_GET_HW_INFO reports about the IOMMU behind a device.
public struct HWInfo: Sendable, Hashable {
    /// `iommu_hw_info_type` (`out_data_type`).
    public enum IOMMUType: Sendable, Hashable, CustomStringConvertible {
        case none, intelVTd, armSMMUv3, tegra241CMDQV, amd
        /// TEST-ONLY: the IOMMUFD_TEST mock driver (`IOMMU_HW_INFO_TYPE_SELFTEST`).
        case selftest
        case unknown(UInt32)

        public init(rawValue: UInt32) {
            switch rawValue {
            case UInt32(IOMMU_HW_INFO_TYPE_NONE.rawValue): self = .none
            case UInt32(IOMMU_HW_INFO_TYPE_INTEL_VTD.rawValue): self = .intelVTd
            case UInt32(IOMMU_HW_INFO_TYPE_ARM_SMMUV3.rawValue): self = .armSMMUv3
            case UInt32(IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV.rawValue): self = .tegra241CMDQV
            case 4: self = .amd  // IOMMU_HW_INFO_TYPE_AMD, patch series only
            case UInt32(IOMMU_HW_INFO_TYPE_SELFTEST): self = .selftest
            default: self = .unknown(rawValue)
            }
        }

        public var description: String {
            switch self {
            case .none: "none"
            case .intelVTd: "intel-vtd"
            case .armSMMUv3: "arm-smmuv3"
            case .tegra241CMDQV: "tegra241-cmdqv"
            case .amd: "amd"
            case .selftest: "selftest"
            case .unknown(let raw): "unknown(0x\(String(raw, radix: 16)))"
            }
        }
    }

    /// `out_capabilities`.
    public struct Capabilities: OptionSet, Sendable, Hashable {
        public let rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }
        /// HWPTs may be allocated with dirty tracking. The C constant is `IOMMU_HW_CAP_DIRTY_TRACKING`.
        public static let dirtyTracking = Capabilities(rawValue: UInt64(IOMMU_HW_CAP_DIRTY_TRACKING.rawValue))
        /// The device's PASID capability allows execute. The C constant is `IOMMU_HW_CAP_PCI_PASID_EXEC`.
        public static let pasidExec = Capabilities(rawValue: UInt64(IOMMU_HW_CAP_PCI_PASID_EXEC.rawValue))
        /// The device's PASID capability allows privileged mode. The C constant is `IOMMU_HW_CAP_PCI_PASID_PRIV`.
        public static let pasidPriv = Capabilities(rawValue: UInt64(IOMMU_HW_CAP_PCI_PASID_PRIV.rawValue))
        /// ATS cannot be used for this device (7.x: set when the IOMMU does not report
        /// IOMMU_CAP_PCI_ATS_SUPPORTED for it). The C constant is `IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED`.
        public static let pciATSNotSupported = Capabilities(rawValue: UInt64(IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED.rawValue))
    }

    public let type: IOMMUType
    /// The driver data, as long as the kernel reported (`data_len` after the call).
    public let rawData: [UInt8]
    public let capabilities: Capabilities
    /// PASID width in bits; 0 when the device or IOMMU has no PASID support.
    public let maxPASIDLog2: UInt8

    public init(type: IOMMUType, rawData: [UInt8], capabilities: Capabilities, maxPASIDLog2: UInt8) {
        self.type = type
        self.rawData = rawData
        self.capabilities = capabilities
        self.maxPASIDLog2 = maxPASIDLog2
    }

    /// The decoded VT-d registers, for `.intelVTd` with a complete `iommu_hw_info_vtd`.
    public var vtd: VTdInfo? {
        guard type == .intelVTd, rawData.count >= MemoryLayout<iommu_hw_info_vtd>.size else { return nil }
        return VTdInfo(flags: load(UInt32.self, at: 0), cap: load(UInt64.self, at: 8), ecap: load(UInt64.self, at: 16))
    }

    /// The decoded SMMUv3 ID registers, for `.armSMMUv3` with a complete `iommu_hw_info_arm_smmuv3`.
    public var smmuv3: SMMUv3Info? {
        guard type == .armSMMUv3, rawData.count >= MemoryLayout<iommu_hw_info_arm_smmuv3>.size else { return nil }
        let idr = (0..<6).map { load(UInt32.self, at: 8 + 4 * $0) }
        return SMMUv3Info(idr: idr, iidr: load(UInt32.self, at: 32), aidr: load(UInt32.self, at: 36))
    }

    private func load<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        rawData.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}

/// One named bit field of a capability register, for printing.
public struct RegisterField: Sendable, Hashable, CustomStringConvertible {
    public let register: String
    public let name: String
    public let lsb: Int
    public let width: Int
    public let value: UInt64
    public let meaning: String
    public var description: String { "\(register).\(name)=\(width == 1 ? String(value) : "0x" + String(value, radix: 16))" }
}

/// A field layout: name, lowest bit, width, meaning.
typealias FieldSpec = (name: String, lsb: Int, width: Int, meaning: String)

func decodeFields(_ register: String, _ value: UInt64, _ specs: [FieldSpec]) -> [RegisterField] {
    specs.map { s in
        let mask: UInt64 = s.width >= 64 ? .max : (1 << UInt64(s.width)) - 1
        return RegisterField(register: register, name: s.name, lsb: s.lsb, width: s.width,
                             value: (value >> UInt64(s.lsb)) & mask, meaning: s.meaning)
    }
}

/// Intel VT-d CAP_REG and ECAP_REG (VT-d spec §11.4.2-3; kernel drivers/iommu/intel/iommu.h).
public struct VTdInfo: Sendable, Hashable {
    /// `iommu_hw_info_vtd.flags` (bit 0: erratum 772415 SPR17, no nested parent for stage 2).
    public let flags: UInt32
    public let cap: UInt64
    public let ecap: UInt64

    public init(flags: UInt32 = 0, cap: UInt64, ecap: UInt64) {
        self.flags = flags
        self.cap = cap
        self.ecap = ecap
    }

    static let capSpecs: [FieldSpec] = [
        ("ND", 0, 3, "number of domains: 2^(4+2*ND)"),
        ("AFL", 3, 1, "advanced fault logging"),
        ("RWBF", 4, 1, "required write-buffer flushing"),
        ("PLMR", 5, 1, "protected low-memory region"),
        ("PHMR", 6, 1, "protected high-memory region"),
        ("CM", 7, 1, "caching mode: not-present entries may be cached (typical of an emulated IOMMU)"),
        ("SAGAW", 8, 5, "supported adjusted guest address widths: bit1 39-bit/3-level, bit2 48-bit/4-level, bit3 57-bit/5-level"),
        ("MGAW", 16, 6, "maximum guest address width minus 1"),
        ("ZLR", 22, 1, "zero-length reads"),
        ("FRO", 24, 10, "fault-recording register offset / 16"),
        ("SLLPS", 34, 4, "second-stage large pages: bit0 2 MiB, bit1 1 GiB"),
        ("PSI", 39, 1, "page-selective invalidation"),
        ("NFR", 40, 8, "number of fault-recording registers minus 1"),
        ("MAMV", 48, 6, "maximum address mask value for page-selective invalidation"),
        ("DWD", 54, 1, "write draining"),
        ("DRD", 55, 1, "read draining"),
        ("FL1GP", 56, 1, "first-stage 1 GiB pages"),
        ("PI", 59, 1, "posted interrupts"),
        ("FL5LP", 60, 1, "first-stage 5-level paging"),
        ("ECMDS", 61, 1, "enhanced command support"),
        ("ESIRTPS", 62, 1, "enhanced set interrupt remap table pointer"),
        ("ESRTPS", 63, 1, "enhanced set root table pointer"),
    ]

    static let ecapSpecs: [FieldSpec] = [
        ("C", 0, 1, "page-walk coherency"),
        ("QI", 1, 1, "queued invalidation"),
        ("DT", 2, 1, "device-TLB (ATS)"),
        ("IR", 3, 1, "interrupt remapping"),
        ("EIM", 4, 1, "extended interrupt mode (x2APIC)"),
        ("PT", 6, 1, "pass-through translation"),
        ("SC", 7, 1, "snoop control"),
        ("IRO", 8, 10, "IOTLB register offset / 16"),
        ("MHMV", 20, 4, "maximum interrupt handle mask value"),
        ("MTS", 25, 1, "memory type support"),
        ("NEST", 26, 1, "nested translation"),
        ("PRS", 29, 1, "page requests"),
        ("ERS", 30, 1, "execute requests"),
        ("SRS", 31, 1, "supervisor requests"),
        ("NWFS", 33, 1, "no-write flag"),
        ("EAFS", 34, 1, "extended accessed flag"),
        ("PSS", 35, 5, "PASID size minus 1 (PASID bits = PSS + 1)"),
        ("PASID", 40, 1, "process address space IDs"),
        ("DIT", 41, 1, "device-TLB invalidation throttling"),
        ("PDS", 42, 1, "page-request drain"),
        ("SMTS", 43, 1, "scalable-mode translation"),
        ("VCS", 44, 1, "virtual command"),
        ("SLADS", 45, 1, "second-stage accessed/dirty bits (SSADS): needed for dirty tracking"),
        ("SLTS", 46, 1, "second-stage translation (SSTS) in scalable mode"),
        ("FLTS", 47, 1, "first-stage translation (FSTS) in scalable mode: needed for nesting"),
        ("SMPWCS", 48, 1, "scalable-mode page-walk coherency"),
        ("RPS", 49, 1, "RID-PASID"),
        ("PMS", 51, 1, "performance monitoring (kernel ecap_pms)"),
        ("ADMS", 52, 1, "abort DMA mode"),
        ("RPRIVS", 53, 1, "RID_PRIV"),
    ]

    /// Every named field of both registers, in bit order.
    public var fields: [RegisterField] {
        decodeFields("cap", cap, Self.capSpecs) + decodeFields("ecap", ecap, Self.ecapSpecs)
    }

    /// A field by its spec name ("SAGAW", "SMTS", ...), from either register.
    public func field(_ name: String) -> UInt64? {
        fields.first { $0.name == name }?.value
    }

    private func capBits(_ lsb: Int, _ width: Int = 1) -> UInt64 { (cap >> UInt64(lsb)) & ((1 << UInt64(width)) - 1) }
    private func ecapBits(_ lsb: Int, _ width: Int = 1) -> UInt64 { (ecap >> UInt64(lsb)) & ((1 << UInt64(width)) - 1) }

    /// SAGAW as a bit mask (bit 1: 3-level, bit 2: 4-level, bit 3: 5-level).
    public var sagaw: UInt8 { UInt8(capBits(8, 5)) }
    /// Supported second-stage address widths in bits, from SAGAW.
    public var supportedAddressWidths: [Int] {
        [(1, 39), (2, 48), (3, 57)].filter { sagaw & (1 << $0.0) != 0 }.map(\.1)
    }
    /// Maximum guest address width in bits (MGAW + 1).
    public var mgaw: Int { Int(capBits(16, 6)) + 1 }
    /// Number of domain ids (2^(4 + 2*ND)).
    public var domainCount: Int { 1 << (4 + 2 * Int(capBits(0, 3))) }
    public var cachingMode: Bool { capBits(7) != 0 }
    public var pageSelectiveInvalidation: Bool { capBits(39) != 0 }
    /// Number of fault-recording registers (NFR + 1).
    public var faultRecordingRegisters: Int { Int(capBits(40, 8)) + 1 }
    /// Fault-recording register offset in bytes (FRO * 16).
    public var faultRecordingOffset: Int { Int(capBits(24, 10)) * 16 }
    public var secondStage2MiBPages: Bool { capBits(34) != 0 }
    public var secondStage1GiBPages: Bool { capBits(35) != 0 }
    public var firstStage1GiBPages: Bool { capBits(56) != 0 }
    public var firstStage5Level: Bool { capBits(60) != 0 }
    public var postedInterrupts: Bool { capBits(59) != 0 }

    public var coherent: Bool { ecapBits(0) != 0 }
    public var queuedInvalidation: Bool { ecapBits(1) != 0 }
    public var deviceTLB: Bool { ecapBits(2) != 0 }
    public var interruptRemapping: Bool { ecapBits(3) != 0 }
    public var extendedInterruptMode: Bool { ecapBits(4) != 0 }
    public var passThrough: Bool { ecapBits(6) != 0 }
    public var snoopControl: Bool { ecapBits(7) != 0 }
    /// IOTLB register offset in bytes (IRO * 16).
    public var iotlbRegisterOffset: Int { Int(ecapBits(8, 10)) * 16 }
    public var nested: Bool { ecapBits(26) != 0 }
    public var pageRequests: Bool { ecapBits(29) != 0 }
    public var supervisorRequests: Bool { ecapBits(31) != 0 }
    /// PASID width in bits (PSS + 1), when PASIDs are supported.
    public var pasidBits: Int? { pasid ? Int(ecapBits(35, 5)) + 1 : nil }
    public var pasid: Bool { ecapBits(40) != 0 }
    public var scalableMode: Bool { ecapBits(43) != 0 }
    /// Second-stage accessed/dirty bits (SSADS, kernel `ecap_slads`): what dirty tracking needs.
    public var dirtyTracking: Bool { ecapBits(45) != 0 }
    public var secondStage: Bool { ecapBits(46) != 0 }
    public var firstStage: Bool { ecapBits(47) != 0 }
}

/// Arm SMMUv3 ID registers (SMMUv3 spec §6.3; kernel arm-smmu-v3.h).
public struct SMMUv3Info: Sendable, Hashable {
    /// IDR0...IDR5.
    public let idr: [UInt32]
    public let iidr: UInt32
    public let aidr: UInt32

    public init(idr: [UInt32], iidr: UInt32 = 0, aidr: UInt32 = 0) {
        self.idr = idr
        self.iidr = iidr
        self.aidr = aidr
    }

    static let specs: [[FieldSpec]] = [
        [("S2P", 0, 1, "stage-2 translation"), ("S1P", 1, 1, "stage-1 translation"),
         ("TTF", 2, 2, "table formats: 1 AArch32, 2 AArch64, 3 both"), ("COHACC", 4, 1, "coherent access"),
         ("BTM", 5, 1, "broadcast TLB maintenance"), ("HTTU", 6, 2, "hardware access/dirty update: 1 A, 2 A+D"),
         ("ATS", 10, 1, "PCIe ATS"), ("ASID16", 12, 1, "16-bit ASIDs"), ("MSI", 13, 1, "MSIs"),
         ("PRI", 16, 1, "PCIe PRI"), ("VMID16", 18, 1, "16-bit VMIDs"), ("CD2L", 19, 1, "2-level CD tables"),
         ("TTENDIAN", 21, 2, "translation table endianness"), ("STALL_MODEL", 24, 2, "0 stall+terminate, 1 no stall, 2 forced stall"),
         ("ST_LEVEL", 27, 2, "stream table: 0 linear, 1 2-level")],
        [("SIDSIZE", 0, 6, "StreamID bits"), ("SSIDSIZE", 6, 5, "SubstreamID (PASID) bits"),
         ("PRIQS", 11, 5, "log2 PRI queue entries"), ("EVENTQS", 16, 5, "log2 event queue entries"),
         ("CMDQS", 21, 5, "log2 command queue entries"), ("REL", 28, 1, "relative base addresses"),
         ("QUEUES_PRESET", 29, 1, "fixed queue bases"), ("TABLES_PRESET", 30, 1, "fixed table bases")],
        [("BA_VATOS", 0, 10, "VATOS page base address")],
        [("HAD", 2, 1, "hierarchical attribute disable"), ("FWB", 8, 1, "stage-2 forced write-back"),
         ("RIL", 10, 1, "range invalidation"), ("BBML", 11, 2, "break-before-make level")],
        [],
        [("OAS", 0, 3, "output address size: 0 32, 1 36, 2 40, 3 42, 4 44, 5 48, 6 52 bits"),
         ("GRAN4K", 4, 1, "4 KiB granule"), ("GRAN16K", 5, 1, "16 KiB granule"), ("GRAN64K", 6, 1, "64 KiB granule"),
         ("VAX", 10, 2, "virtual address extension: 1 52-bit"), ("STALL_MAX", 16, 16, "max outstanding stalls")],
    ]

    public var fields: [RegisterField] {
        zip(idr, Self.specs).enumerated().flatMap { i, pair in decodeFields("IDR\(i)", UInt64(pair.0), pair.1) }
    }

    public func field(_ name: String) -> UInt64? { fields.first { $0.name == name }?.value }

    public var stage1: Bool { field("S1P") == 1 }
    public var stage2: Bool { field("S2P") == 1 }
    /// Hardware dirty-bit update (HTTU = 2): what dirty tracking needs.
    public var dirtyTracking: Bool { field("HTTU") == 2 }
    public var substreamIDBits: Int { Int(field("SSIDSIZE") ?? 0) }
    public var streamIDBits: Int { Int(field("SIDSIZE") ?? 0) }
}

extension IOMMUFD {
    /// IOMMU_GET_HW_INFO for `device`. `requestedType` asks for a specific data type
    /// (`IOMMU_HW_INFO_FLAG_INPUT_TYPE`, 6.17+); older kernels answer EOPNOTSUPP.
    /// `bufferSize` (the data buffer, `data_len`) must be 0...`maximumHWInfoBuffer`.
    public func hwInfo(device: IOMMUFDDeviceID, requestedType: UInt32? = nil,
                       bufferSize: Int = 256) throws(IOMMUFDError) -> HWInfo {
        guard (0...Self.maximumHWInfoBuffer).contains(bufferSize) else {
            throw .invalid(.getHWInfo, argument: "data_len",
                           "buffer size \(bufferSize) is outside 0...\(Self.maximumHWInfoBuffer)")
        }
        let buffer = [UInt8](repeating: 0, count: bufferSize)
        let (reply, data) = try withArrayBuffer(buffer) { (buf) throws(IOMMUFDError) in
            let reply = try fd.raw.hwInfo(device: device.rawValue,
                                          flags: requestedType == nil ? 0 : UInt32(IOMMU_HW_INFO_FLAG_INPUT_TYPE.rawValue),
                                          inputType: requestedType ?? 0,
                                          data: bufferSize == 0 ? nil : UnsafeMutableRawPointer(buf.baseAddress),
                                          dataLength: UInt32(bufferSize))
            // The kernel sets data_len to what it filled when our buffer was larger.
            return (reply, Array(buf.prefix(min(Int(reply.dataLength), bufferSize))))
        }
        return HWInfo(type: .init(rawValue: reply.dataType), rawData: data,
                      capabilities: .init(rawValue: reply.capabilities), maxPASIDLog2: reply.maxPASIDLog2)
    }
}

extension IOMMUFD {
    /// The largest `hwInfo` buffer: every driver's data is a few dozen bytes.
    public static let maximumHWInfoBuffer = 1 << 16
}

extension iommu_hw_info: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("flags", hex: flags), TraceField("dev_id", dev_id),
         TraceField("data_len", data_len), TraceField("data_uptr", hex: data_uptr),
         TraceField("out_data_type", hex: out_data_type), TraceField("out_max_pasid_log2", out_max_pasid_log2),
         TraceField("out_capabilities", hex: out_capabilities)]
    }
}
