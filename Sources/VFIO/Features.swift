import CIOMMUFD
import IOMMUFD
import SystemPackage

/// VFIO_DEVICE_FEATURE indexes (the low 16 bits of flags).
public struct DeviceFeature: RawRepresentable, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let pciVFToken = DeviceFeature(rawValue: UInt16(VFIO_DEVICE_FEATURE_PCI_VF_TOKEN))
    public static let migration = DeviceFeature(rawValue: UInt16(VFIO_DEVICE_FEATURE_MIGRATION))
    public static let migDeviceState = DeviceFeature(rawValue: UInt16(VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE))
    public static let lowPowerEntry = DeviceFeature(rawValue: UInt16(VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY))
    public static let lowPowerEntryWithWakeup = DeviceFeature(rawValue: UInt16(VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP))
    public static let lowPowerExit = DeviceFeature(rawValue: UInt16(VFIO_DEVICE_FEATURE_LOW_POWER_EXIT))
    public static let dmaLoggingStart = DeviceFeature(rawValue: UInt16(VFIO_DEVICE_FEATURE_DMA_LOGGING_START))
    public static let dmaLoggingStop = DeviceFeature(rawValue: UInt16(VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP))
    public static let dmaLoggingReport = DeviceFeature(rawValue: UInt16(VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT))
    public static let migDataSize = DeviceFeature(rawValue: UInt16(VFIO_DEVICE_FEATURE_MIG_DATA_SIZE))
    public static let busMaster = DeviceFeature(rawValue: UInt16(VFIO_DEVICE_FEATURE_BUS_MASTER))
    public static let dmaBuf = DeviceFeature(rawValue: UInt16(VFIO_DEVICE_FEATURE_DMA_BUF))
}

/// GET / SET / PROBE bits of a FEATURE call.
public struct FeatureOperation: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let get = FeatureOperation(rawValue: UInt32(VFIO_DEVICE_FEATURE_GET))
    public static let set = FeatureOperation(rawValue: UInt32(VFIO_DEVICE_FEATURE_SET))
    public static let probe = FeatureOperation(rawValue: UInt32(VFIO_DEVICE_FEATURE_PROBE))
}

extension VFIODevice {
    /// VFIO_DEVICE_FEATURE, the general form: header {argsz, flags} + payload.
    /// Returns the payload as the kernel left it (GET fills it in).
    @discardableResult
    public func feature(_ feature: DeviceFeature, _ op: FeatureOperation, payload: [UInt8] = []) throws(IOMMUFDError) -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: 8 + payload.count)
        buf.putLE(UInt32(buf.count), at: 0)
        buf.putLE(UInt32(feature.rawValue) | op.rawValue, at: 4)
        for (i, b) in payload.enumerated() { buf[8 + i] = b }
        let out = try performBytes(.vfioDeviceFeature, buf, argumentName: "flags")
        return Array(out.dropFirst(8))
    }

    /// PROBE: does the device support `feature` with these operations? (ENOTTY → false.)
    public func supports(_ feature: DeviceFeature, _ op: FeatureOperation = []) throws(IOMMUFDError) -> Bool {
        do throws(IOMMUFDError) {
            try self.feature(feature, op.union(.probe))
            return true
        } catch where error.errno == .inappropriateIOCTLForDevice {
            return false
        }
    }

    /// FEATURE_BUS_MASTER SET (6.12+, meant for non-PCI buses like CDX; vfio-pci uses
    /// the config space command register instead — see `setPCIBusMaster`).
    public func setBusMasterFeature(_ on: Bool) throws(IOMMUFDError) {
        var p = [UInt8](repeating: 0, count: 4)
        p.putLE(UInt32(on ? VFIO_DEVICE_FEATURE_SET_MASTER : VFIO_DEVICE_FEATURE_CLEAR_MASTER), at: 0)
        try feature(.busMaster, .set, payload: p)
    }

    /// DMA_LOGGING_START: the device tracks its own writes in these IOVA ranges.
    public func startDMALogging(pageSize: UInt64, ranges: [(iova: UInt64, length: UInt64)]) throws(IOMMUFDError) {
        if ranges.isEmpty { throw .invalid(.vfioDeviceFeature, argument: "num_ranges", "DMA logging needs at least one range") }
        var flat = [UInt64]()
        for r in ranges { flat.append(r.iova); flat.append(r.length) }
        try withArrayBuffer(flat) { (buf) throws(IOMMUFDError) in
            var ctl = vfio_device_feature_dma_logging_control()
            ctl.page_size = pageSize
            ctl.num_ranges = UInt32(ranges.count)
            ctl.ranges = userPointer(buf.baseAddress)
            try feature(.dmaLoggingStart, .set, payload: bytes(of: ctl))
        }
    }

    /// DMA_LOGGING_STOP.
    public func stopDMALogging() throws(IOMMUFDError) {
        try feature(.dmaLoggingStop, .set)
    }

    /// DMA_LOGGING_REPORT: one bit per `pageSize` page of [iova, iova+length), as u64 words.
    public func dmaLoggingReport(iova: UInt64, length: UInt64, pageSize: UInt64) throws(IOMMUFDError) -> [UInt64] {
        let words = try bitmapWords(.vfioDeviceFeature, length: length, pageSize: pageSize, names: ("length", "page_size"))
        return try withArrayBuffer([UInt64](repeating: 0, count: words)) { (buf) throws(IOMMUFDError) in
            var rep = vfio_device_feature_dma_logging_report()
            rep.iova = iova
            rep.length = length
            rep.page_size = pageSize
            rep.bitmap = userPointer(buf.baseAddress)
            try feature(.dmaLoggingReport, .get, payload: bytes(of: rep))
            return Array(buf)
        }
    }
}

// MARK: - PCI hot reset

/// One device a hot reset would also reset.
public struct DependentDevice: Sendable, Hashable {
    /// The group id, or (with `HotResetInfo.usesDeviceIDs`) the iommufd device id;
    /// 0 = owned by this iommufd but not opened, 0xffffffff = not owned.
    public let id: UInt32
    public let segment: UInt16
    public let bus: UInt8
    public let devfn: UInt8

    public var address: String {
        func hex(_ v: Int, _ w: Int) -> String { let s = String(v, radix: 16); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(hex(Int(segment), 4)):\(hex(Int(bus), 2)):\(hex(Int(devfn >> 3), 2)).\(devfn & 7)"
    }
}

public struct HotResetInfo: Sendable, Hashable {
    public let flags: UInt32
    public let devices: [DependentDevice]
    /// FLAG_DEV_ID: ids are iommufd device ids (cdev), not group ids.
    public var usesDeviceIDs: Bool { flags & UInt32(VFIO_PCI_HOT_RESET_FLAG_DEV_ID) != 0 }
    /// FLAG_DEV_ID_OWNED: every affected device is owned by this iommufd.
    public var allOwned: Bool { flags & UInt32(VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED) != 0 }
}

extension VFIODevice {
    /// VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: the kernel answers ENOSPC with the count
    /// needed, so ask with room for 8, then again with room for `count`.
    public func hotResetInfo() throws(IOMMUFDError) -> HotResetInfo {
        var capacity = 8
        for _ in 0..<3 {
            var buf = [UInt8](repeating: 0, count: 12 + 8 * capacity)
            buf.putLE(UInt32(buf.count), at: 0)
            let out = fd.performBytesKeepingOutput(.vfioDeviceGetPCIHotResetInfo, buf)
            let count = Int(out.bytes.le(UInt32.self, at: 8) ?? 0)
            switch out.result {
            case .failure(let e) where e.errno == .noSpace && count > capacity:
                // Kernel data: a bus reset spans at most a few hundred functions.
                guard count <= Self.maximumHotResetDevices else {
                    throw .invalid(.vfioDeviceGetPCIHotResetInfo, argument: "count",
                                   "kernel asked for room for \(count) devices, more than the \(Self.maximumHotResetDevices) allowed",
                                   errno: .argListTooLong)
                }
                capacity = count
                continue
            case .failure(let e):
                throw e
            case .success:
                var devices: [DependentDevice] = []
                for i in 0..<min(count, capacity) {
                    let b = 12 + 8 * i
                    devices.append(DependentDevice(id: out.bytes.le(UInt32.self, at: b) ?? 0,
                                                   segment: out.bytes.le(UInt16.self, at: b + 4) ?? 0,
                                                   bus: out.bytes[b + 6], devfn: out.bytes[b + 7]))
                }
                return HotResetInfo(flags: out.bytes.le(UInt32.self, at: 4) ?? 0, devices: devices)
            }
        }
        throw .invalid(.vfioDeviceGetPCIHotResetInfo, argument: "count", "kernel kept asking for a larger array", errno: .noSpace)
    }

    /// The most dependent devices `hotResetInfo()` makes room for (512 KiB).
    public static let maximumHotResetDevices = 1 << 16

    /// VFIO_DEVICE_PCI_HOT_RESET. A cdev device bound to iommufd passes no group fds
    /// (the kernel checks ownership by iommufd); group-opened devices pass every group.
    public func hotReset(groupFDs: [FileDescriptor] = []) throws(IOMMUFDError) {
        var buf = [UInt8](repeating: 0, count: 12 + 4 * groupFDs.count)
        buf.putLE(UInt32(buf.count), at: 0)
        buf.putLE(UInt32(groupFDs.count), at: 8)
        for (i, g) in groupFDs.enumerated() { buf.putLE(UInt32(bitPattern: g.rawValue), at: 12 + 4 * i) }
        try performBytes(.vfioDevicePCIHotReset, buf)
    }
}
