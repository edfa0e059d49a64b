import CIOMMUFD
import IOMMUFD
import SystemPackage

/// A vfio-pci IRQ index.
public enum IRQIndex: UInt32, Sendable, CaseIterable {
    case intx = 0, msi = 1, msix = 2, err = 3, req = 4
}

/// VFIO_IRQ_INFO_*.
public struct IRQFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let eventfd = IRQFlags(rawValue: UInt32(VFIO_IRQ_INFO_EVENTFD))
    public static let maskable = IRQFlags(rawValue: UInt32(VFIO_IRQ_INFO_MASKABLE))
    public static let automasked = IRQFlags(rawValue: UInt32(VFIO_IRQ_INFO_AUTOMASKED))
    public static let noResize = IRQFlags(rawValue: UInt32(VFIO_IRQ_INFO_NORESIZE))
}

public struct IRQInfo: Sendable, Hashable {
    public let index: UInt32
    public let flags: IRQFlags
    /// Vectors of this index (0: the device does not have it, e.g. no MSI-X capability).
    public let count: UInt32
}

/// The ACTION_ of a SET_IRQS.
public enum IRQAction: Sendable {
    case mask, unmask, trigger
    var flag: UInt32 {
        switch self {
        case .mask: UInt32(VFIO_IRQ_SET_ACTION_MASK)
        case .unmask: UInt32(VFIO_IRQ_SET_ACTION_UNMASK)
        case .trigger: UInt32(VFIO_IRQ_SET_ACTION_TRIGGER)
        }
    }
}

/// The DATA_ of a SET_IRQS: nothing, one bool per vector, or one eventfd per vector (-1: none).
public enum IRQData: Sendable, Equatable {
    case none
    case bools([Bool])
    case eventFDs([Int32])
}

extension VFIODevice {
    /// VFIO_DEVICE_GET_IRQ_INFO.
    public func irqInfo(_ index: IRQIndex) throws(IOMMUFDError) -> IRQInfo { try irqInfo(rawIndex: index.rawValue) }

    public func irqInfo(rawIndex: UInt32) throws(IOMMUFDError) -> IRQInfo {
        var cmd = vfio_irq_info()
        cmd.argsz = UInt32(MemoryLayout<vfio_irq_info>.size)
        cmd.index = rawIndex
        try fd.perform(.vfioDeviceGetIRQInfo, &cmd, argumentName: "index")
        return IRQInfo(index: cmd.index, flags: IRQFlags(rawValue: cmd.flags), count: cmd.count)
    }

    /// VFIO_DEVICE_SET_IRQS, the general form. `count` is the data's element count
    /// for bools/eventfds, or given explicitly for DATA_NONE.
    public func setIRQs(_ index: UInt32, action: IRQAction, start: UInt32 = 0, count: UInt32? = nil,
                        data: IRQData = .none) throws(IOMMUFDError) {
        let header = 20 // sizeof(vfio_irq_set) without data[]
        var payload: [UInt8] = []
        var flags = action.flag
        var n: UInt32
        switch data {
        case .none:
            flags |= UInt32(VFIO_IRQ_SET_DATA_NONE)
            n = count ?? 1
        case .bools(let values):
            flags |= UInt32(VFIO_IRQ_SET_DATA_BOOL)
            payload = values.map { $0 ? 1 : 0 }
            n = UInt32(values.count)
        case .eventFDs(let fds):
            flags |= UInt32(VFIO_IRQ_SET_DATA_EVENTFD)
            payload = [UInt8](repeating: 0, count: 4 * fds.count)
            for (i, f) in fds.enumerated() { payload.putLE(UInt32(bitPattern: f), at: 4 * i) }
            n = UInt32(fds.count)
        }
        if let count, count != n, data != .none {
            throw .invalid(.vfioDeviceSetIRQs, argument: "count", "count \(count) does not match \(n) data elements")
        }
        var buf = [UInt8](repeating: 0, count: header + payload.count)
        buf.putLE(UInt32(buf.count), at: 0)
        buf.putLE(flags, at: 4)
        buf.putLE(index, at: 8)
        buf.putLE(start, at: 12)
        buf.putLE(n, at: 16)
        for (i, b) in payload.enumerated() { buf[header + i] = b }
        try performBytes(.vfioDeviceSetIRQs, buf, argumentName: "index")
    }

    /// Routes vectors `start...` of `index` to eventfds (MSI/MSI-X/INTx enable).
    public func enableIRQs(_ index: IRQIndex, eventFDs: [FileDescriptor], start: UInt32 = 0) throws(IOMMUFDError) {
        if eventFDs.isEmpty { throw .invalid(.vfioDeviceSetIRQs, argument: "data", "no eventfds given") }
        try setIRQs(index.rawValue, action: .trigger, start: start, data: .eventFDs(eventFDs.map(\.rawValue)))
    }

    /// Disables every vector of `index` (DATA_NONE | ACTION_TRIGGER, count 0).
    public func disableIRQs(_ index: IRQIndex) throws(IOMMUFDError) {
        try setIRQs(index.rawValue, action: .trigger, start: 0, count: 0, data: .none)
    }

    /// Fires `vector` from software, as if the device raised it (loopback test of the eventfd).
    public func triggerIRQ(_ index: IRQIndex, vector: UInt32 = 0) throws(IOMMUFDError) {
        try setIRQs(index.rawValue, action: .trigger, start: vector, count: 1, data: .none)
    }

    public func maskIRQ(_ index: IRQIndex, vector: UInt32 = 0) throws(IOMMUFDError) {
        try setIRQs(index.rawValue, action: .mask, start: vector, count: 1, data: .none)
    }

    public func unmaskIRQ(_ index: IRQIndex, vector: UInt32 = 0) throws(IOMMUFDError) {
        try setIRQs(index.rawValue, action: .unmask, start: vector, count: 1, data: .none)
    }

    /// Sends a byte buffer as the ioctl argument (variable-length structs).
    @discardableResult
    func performBytes(_ request: IoctlRequest, _ buffer: [UInt8], argumentName: String? = nil) throws(IOMMUFDError) -> [UInt8] {
        try fd.performBytes(request, buffer, argumentName: argumentName)
    }
}

extension KernelFD {
    /// Issues `request` on a copy of `buffer`; returns the bytes as the kernel left them.
    @discardableResult
    func performBytes(_ request: IoctlRequest, _ buffer: [UInt8], argumentName: String? = nil) throws(IOMMUFDError) -> [UInt8] {
        let out = performBytesKeepingOutput(request, buffer, argumentName: argumentName)
        try out.result.get()
        return out.bytes
    }

    /// Like `performBytes` but also hands back the output when the ioctl fails
    /// (ENOSPC/EMSGSIZE answers carry the size needed).
    func performBytesKeepingOutput(_ request: IoctlRequest, _ buffer: [UInt8], argumentName: String? = nil)
        -> (bytes: [UInt8], result: Result<Void, IOMMUFDError>) {
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(buffer.count, 1), alignment: 8)
        defer { raw.deallocate() }
        raw.copyBytes(from: buffer)
        let view = UnsafeMutableRawBufferPointer(rebasing: raw[0..<buffer.count])
        do throws(IOMMUFDError) {
            try perform(request, bytes: view, argumentName: argumentName)
            return (Array(view), .success(()))
        } catch {
            return (Array(view), .failure(error))
        }
    }
}
