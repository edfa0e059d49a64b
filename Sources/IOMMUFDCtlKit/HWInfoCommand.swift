import IOMMUFD
import SystemPackage
import VFIO

/// What `hw-info DEVICE` found: GET_HW_INFO decoded field by field, then the IOVA
/// ranges of a fresh IOAS with the device attached.
public struct HWInfoReport: Sendable, Encodable {
    public struct Field: Sendable, Encodable, Equatable {
        public let register: String
        public let name: String
        public let bits: String
        public let value: String
        public let meaning: String
    }

    public var device: String
    public var cdev: String?
    public var devID: UInt32?
    public var iommuType: String?
    public var dataLength: Int?
    public var rawData: String?
    public var capabilities: [String] = []
    public var maxPASIDLog2: Int?
    public var fields: [Field] = []
    public var summary: [TraceRecord.Field] = []
    public var ioasID: UInt32?
    public var hwptID: UInt32?
    public var iovaRanges: [String] = []
    public var iovaAlignment: String?
    public var error: StepResult.ErrorInfo?
    public var ioctls: [TraceRecord] = []

    public init(device: String) { self.device = device }

    enum CodingKeys: String, CodingKey {
        case device, cdev, devID = "dev_id", iommuType = "iommu_type", dataLength = "data_len", rawData = "raw_data",
             capabilities, maxPASIDLog2 = "max_pasid_log2", fields, summary, ioasID = "ioas_id", hwptID = "hwpt_id",
             iovaRanges = "iova_ranges", iovaAlignment = "iova_alignment", error, ioctls
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(device, forKey: .device)
        try c.encodeIfPresent(cdev, forKey: .cdev)
        try c.encodeIfPresent(devID, forKey: .devID)
        try c.encodeIfPresent(iommuType, forKey: .iommuType)
        try c.encodeIfPresent(dataLength, forKey: .dataLength)
        try c.encodeIfPresent(rawData, forKey: .rawData)
        try c.encode(capabilities, forKey: .capabilities)
        try c.encodeIfPresent(maxPASIDLog2, forKey: .maxPASIDLog2)
        try c.encode(fields, forKey: .fields)
        try c.encode(FieldList(fields: summary), forKey: .summary)
        try c.encodeIfPresent(ioasID, forKey: .ioasID)
        try c.encodeIfPresent(hwptID, forKey: .hwptID)
        try c.encode(iovaRanges, forKey: .iovaRanges)
        try c.encodeIfPresent(iovaAlignment, forKey: .iovaAlignment)
        try c.encodeIfPresent(error, forKey: .error)
        try c.encode(ioctls, forKey: .ioctls)
    }

    /// Runs the whole sequence; stops at the first error, which it records.
    public static func run(device: String, iommufd: borrowing IOMMUFD,
                           openDevice: DeviceOpener = Session.openDeviceNode) -> HWInfoReport {
        var report = HWInfoReport(device: device)
        let collector = TraceCollector()
        IoctlTracer.with(collector.sink) {
            do throws(IOMMUFDError) {
                let cdev = try PCIDevices.cdevPath(for: device)
                report.cdev = cdev
                let raw = try openDevice(cdev)
                let vfio = VFIODevice(adopting: raw, name: cdev, driver: iommufd.fd.driver)
                let devID = try vfio.bind(iommufd: iommufd)
                report.devID = devID.rawValue
                let info = try iommufd.hwInfo(device: devID)
                report.fill(info)
                let ioas = try iommufd.allocIOAS()
                report.ioasID = ioas.id.rawValue
                let hwpt = try vfio.attach(ioas.id)
                report.hwptID = hwpt.rawValue
                let ranges = try ioas.iovaRanges()
                report.iovaRanges = ranges.ranges.map(\.description)
                report.iovaAlignment = Numbers.hex(ranges.alignment)
                try vfio.detach()
            } catch {
                report.error = StepResult.ErrorInfo(error)
            }
        }
        report.ioctls = collector.drain()
        return report
    }

    mutating func fill(_ info: HWInfo) {
        iommuType = info.type.description
        dataLength = info.rawData.count
        rawData = StructDecoder.hex(info.rawData)
        maxPASIDLog2 = Int(info.maxPASIDLog2)
        var caps: [String] = []
        if info.capabilities.contains(.dirtyTracking) { caps.append("DIRTY_TRACKING") }
        if info.capabilities.contains(.pasidExec) { caps.append("PCI_PASID_EXEC") }
        if info.capabilities.contains(.pasidPriv) { caps.append("PCI_PASID_PRIV") }
        let unknown = info.capabilities.rawValue & ~(Capabilities.known)
        if unknown != 0 { caps.append(Numbers.hex(unknown)) }
        capabilities = caps
        if let vtd = info.vtd {
            fields = vtd.fields.map(Self.field)
            summary = [
                .init("flags", Numbers.hex(vtd.flags)), .init("cap_reg", Numbers.hex(vtd.cap)),
                .init("ecap_reg", Numbers.hex(vtd.ecap)),
                .init("address_widths", vtd.supportedAddressWidths.map(String.init).joined(separator: ",")),
                .init("mgaw", String(vtd.mgaw)), .init("domains", String(vtd.domainCount)),
                .init("caching_mode", String(vtd.cachingMode)), .init("interrupt_remapping", String(vtd.interruptRemapping)),
                .init("nested", String(vtd.nested)), .init("scalable_mode", String(vtd.scalableMode)),
                .init("pasid_bits", vtd.pasidBits.map(String.init) ?? "none"), .init("dirty_tracking", String(vtd.dirtyTracking)),
            ]
        } else if let smmu = info.smmuv3 {
            fields = smmu.fields.map(Self.field)
            summary = [.init("stage1", String(smmu.stage1)), .init("stage2", String(smmu.stage2)),
                       .init("dirty_tracking", String(smmu.dirtyTracking)),
                       .init("ssid_bits", String(smmu.substreamIDBits)), .init("sid_bits", String(smmu.streamIDBits))]
        }
    }

    enum Capabilities {
        static let known: UInt64 = HWInfo.Capabilities([.dirtyTracking, .pasidExec, .pasidPriv]).rawValue
    }

    static func field(_ f: RegisterField) -> Field {
        let bits = f.width == 1 ? "\(f.lsb)" : "\(f.lsb + f.width - 1):\(f.lsb)"
        return Field(register: f.register, name: f.name, bits: bits,
                     value: f.width == 1 ? String(f.value) : Numbers.hex(f.value), meaning: f.meaning)
    }
}
