import IOMMUFD
import SystemPackage

/// pread/pwrite of a region at its offset in the device fd. Config space and BAR
/// registers are little-endian; the typed helpers convert.
extension VFIODevice {
    /// Reads `buffer.count` bytes at `offset` within `region`.
    public func read(_ region: RegionIndex, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(IOMMUFDError) {
        let info = try checkedRegion(region, offset, buffer.count, needs: .read, op: "pread")
        // withDescriptor: a racing close waits for the pread instead of freeing the number under it.
        guard let n = fd.withDescriptor({ raw in io.pread(fd: raw, into: buffer, offset: info.offset + offset) }) else {
            throw .system("pread", .badFileDescriptor, on: "\(name) \(region)")
        }
        if n < 0 { throw .system("pread", Errno(rawValue: Int32(-n)), on: "\(name) \(region)", argument: "offset 0x\(String(offset, radix: 16))") }
        if n != buffer.count {
            throw .system("pread", .ioError, on: "\(name) \(region)", argument: "short read: \(n) of \(buffer.count) bytes")
        }
    }

    /// Writes `buffer` at `offset` within `region`.
    public func write(_ region: RegionIndex, at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(IOMMUFDError) {
        let info = try checkedRegion(region, offset, buffer.count, needs: .write, op: "pwrite")
        guard let n = fd.withDescriptor({ raw in io.pwrite(fd: raw, from: buffer, offset: info.offset + offset) }) else {
            throw .system("pwrite", .badFileDescriptor, on: "\(name) \(region)")
        }
        if n < 0 { throw .system("pwrite", Errno(rawValue: Int32(-n)), on: "\(name) \(region)", argument: "offset 0x\(String(offset, radix: 16))") }
        if n != buffer.count {
            throw .system("pwrite", .ioError, on: "\(name) \(region)", argument: "short write: \(n) of \(buffer.count) bytes")
        }
    }

    /// Reads a whole byte array (e.g. the 256-byte config header): 0...`maximumReadBytes`
    /// bytes, since the array is allocated before the region's bounds are checked.
    public func readBytes(_ region: RegionIndex, at offset: UInt64, count: Int) throws(IOMMUFDError) -> [UInt8] {
        guard (0...Self.maximumReadBytes).contains(count) else {
            throw IOMMUFDError(ioctl: "pread(\(name) \(region))", errno: .invalidArgument, origin: .validation,
                               argument: "count", meaning: "read of \(count) bytes: give 0...\(Self.maximumReadBytes)")
        }
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 8)
        defer { buf.deallocate() }
        let slice = UnsafeMutableRawBufferPointer(rebasing: buf[0..<count])
        try read(region, at: offset, into: slice)
        return Array(slice)
    }

    /// The largest `readBytes` (1 GiB); bigger reads go through `read(_:at:into:)`.
    public static let maximumReadBytes = 1 << 30

    public func read8(_ region: RegionIndex, at offset: UInt64) throws(IOMMUFDError) -> UInt8 { try readLE(region, offset) }
    public func read16(_ region: RegionIndex, at offset: UInt64) throws(IOMMUFDError) -> UInt16 { try readLE(region, offset) }
    public func read32(_ region: RegionIndex, at offset: UInt64) throws(IOMMUFDError) -> UInt32 { try readLE(region, offset) }
    public func read64(_ region: RegionIndex, at offset: UInt64) throws(IOMMUFDError) -> UInt64 { try readLE(region, offset) }

    public func write8(_ region: RegionIndex, at offset: UInt64, _ v: UInt8) throws(IOMMUFDError) { try writeLE(region, offset, v) }
    public func write16(_ region: RegionIndex, at offset: UInt64, _ v: UInt16) throws(IOMMUFDError) { try writeLE(region, offset, v) }
    public func write32(_ region: RegionIndex, at offset: UInt64, _ v: UInt32) throws(IOMMUFDError) { try writeLE(region, offset, v) }
    public func write64(_ region: RegionIndex, at offset: UInt64, _ v: UInt64) throws(IOMMUFDError) { try writeLE(region, offset, v) }

    // One pread/pwrite of exactly the integer's width: the device sees one access of that size.
    // The value's own stack bytes are the buffer: no allocation per register access.
    private func readLE<T: FixedWidthInteger>(_ region: RegionIndex, _ offset: UInt64) throws(IOMMUFDError) -> T {
        var value: T = 0
        let failure = withUnsafeMutableBytes(of: &value) { buf -> IOMMUFDError? in
            do throws(IOMMUFDError) { try read(region, at: offset, into: buf) } catch { return error }
            return nil
        }
        if let failure { throw failure }
        return T(littleEndian: value)
    }

    private func writeLE<T: FixedWidthInteger>(_ region: RegionIndex, _ offset: UInt64, _ value: T) throws(IOMMUFDError) {
        let failure = withUnsafeBytes(of: value.littleEndian) { buf -> IOMMUFDError? in
            do throws(IOMMUFDError) { try write(region, at: offset, from: buf) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// Bounds and permission checks before the syscall: an access outside the region
    /// would touch the next region's offset space.
    private func checkedRegion(_ region: RegionIndex, _ offset: UInt64, _ count: Int, needs: RegionFlags,
                               op: String) throws(IOMMUFDError) -> RegionWindow {
        let info = try cachedWindow(region)
        func reject(_ arg: String, _ why: String) -> IOMMUFDError {
            IOMMUFDError(ioctl: "\(op)(\(name) \(region))", errno: .invalidArgument, origin: .validation,
                         argument: arg, meaning: why)
        }
        if !info.flags.contains(needs) {
            throw reject("region", "\(region) is not \(needs == .read ? "readable" : "writable") (flags 0x\(String(info.flags.rawValue, radix: 16)))")
        }
        let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
        if overflow || end > info.size {
            throw reject("offset", "0x\(String(offset, radix: 16))+\(count) is outside \(region) (size 0x\(String(info.size, radix: 16)))")
        }
        // The region's own offset is kernel data: the file offset must not wrap either.
        if info.offset.addingReportingOverflow(end).overflow {
            throw reject("offset", "\(region) at file offset 0x\(String(info.offset, radix: 16)) + 0x\(String(end, radix: 16)) wraps past 2^64")
        }
        return info
    }
}

/// PCI config space offsets the drivers here need.
public enum PCIConfig {
    public static let vendorID: UInt64 = 0x00
    public static let deviceID: UInt64 = 0x02
    public static let command: UInt64 = 0x04
    public static let status: UInt64 = 0x06
    public static let commandMemory: UInt16 = 1 << 1
    public static let commandBusMaster: UInt16 = 1 << 2
    public static let commandINTxDisable: UInt16 = 1 << 10
}

extension VFIODevice {
    /// Sets (or clears) Bus Master in the PCI command register through the config region,
    /// so the device may issue DMA. Also enables memory decoding when setting.
    public func setPCIBusMaster(_ on: Bool) throws(IOMMUFDError) {
        let cmd = try read16(.config, at: PCIConfig.command)
        let new = on ? cmd | PCIConfig.commandBusMaster | PCIConfig.commandMemory : cmd & ~PCIConfig.commandBusMaster
        if new != cmd { try write16(.config, at: PCIConfig.command, new) }
    }
}
