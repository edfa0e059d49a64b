import ArgumentParser
import Foundation
import Glibc
import IOMMUFD
import VFIO

/// Thousands of object lifecycles on a real device, then the process must look as it did
/// before: same descriptors, same pinned and locked pages, no page still referenced by the
/// mock driver, and the device still does DMA. Runs in the VM (Scripts/soak).
struct Soak: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Repeat open/alloc/map/unmap/destroy and bind/attach/detach/close, then check nothing leaked.")
    @Option(help: "Cycles (each: an IOAS lifecycle, a device lifecycle and, with the test module, a mock-domain lifecycle).")
    var cycles = 10_000
    @Option(help: "PCI address of the edu device (default: the first edu with a VFIO cdev).") var device: String?

    func run() throws {
        let pci = try edu()
        guard let cdev = pci.vfioCdevPath else { throw ValidationError("\(pci.address) has no VFIO cdev") }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 * 4096, alignment: 4096)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0x5a)
        let mock = hasTestModule()
        let before = ProcessAccounting.read()
        // A field that cannot be read would compare equal to itself and prove nothing.
        guard before.descriptors >= 0, before.pinnedKB >= 0, before.lockedKB >= 0 else {
            throw ValidationError("cannot read the baseline from /proc/self: \(before)")
        }
        print("soak: \(cycles) cycles on \(pci.address) (\(cdev)), mock domains: \(mock ? "yes" : "no test module")")
        print("soak: before: \(before)")
        let clock = ContinuousClock()
        let start = clock.now
        for i in 0..<cycles {
            do {
                try ioasCycle(buffer)
                try deviceCycle(cdev, buffer)
                if mock { try mockCycle(buffer) }
            } catch {
                throw ValidationError("cycle \(i): \(error)")
            }
            if (i + 1) % 1000 == 0 { print("soak: \(i + 1) cycles"); fflush(nil) }
        }
        let elapsed = (clock.now - start).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        let after = ProcessAccounting.read()
        print("soak: after:  \(after)")
        print(String(format: "soak: %.0f cycles/s (%d cycles in %.1f s)", Double(cycles) / seconds, cycles, seconds))
        var problems: [String] = []
        if after != before { problems.append("process accounting changed: before \(before), after \(after)") }
        if mock {
            do { try checkNoRefs(buffer) } catch { problems.append("MD_CHECK_REFS after the soak: \(error)") }
        }
        do { try dmaStillWorks(cdev) } catch { problems.append("DMA after the soak: \(error)") }
        if !problems.isEmpty { throw ValidationError("soak FAILED: " + problems.joined(separator: "; ")) }
        print("soak: PASS: descriptors, pinned and locked pages back to baseline\(mock ? ", MD_CHECK_REFS 0" : ""), DMA works")
    }

    func edu() throws -> PCIDevice {
        if let device { return try PCIDevice.find(device) }
        guard let first = PCIDevice.all().first(where: { $0.isEdu && $0.vfioCdevPath != nil }) else {
            throw ValidationError("no edu device bound to vfio-pci")
        }
        return first
    }

    func hasTestModule() -> Bool {
        guard let iommufd = try? IOMMUFD.open(), let ioas = try? iommufd.allocIOAS() else { return false }
        return (try? iommufd.testCommands.mockDomain(ioas.id)) != nil
    }

    /// /dev/iommu, an IOAS, a map and unmap of the buffer; everything closed at the end of scope.
    func ioasCycle(_ buffer: UnsafeMutableRawBufferPointer) throws(IOMMUFDError) {
        let iommufd = try IOMMUFD.open()
        let ioas = try iommufd.allocIOAS()
        try ioas.map(buffer, at: 0x10_0000)
        try ioas.unmap(iova: 0x10_0000, length: UInt64(buffer.count))
        try ioas.destroy()
        try iommufd.close()
    }

    /// The edu's cdev bound, attached, used for a mapping while attached, detached and closed.
    func deviceCycle(_ cdev: String, _ buffer: UnsafeMutableRawBufferPointer) throws(IOMMUFDError) {
        let iommufd = try IOMMUFD.open()
        let ioas = try iommufd.allocIOAS()
        let device = try VFIODevice.openCdev(cdev)
        _ = try device.bind(iommufd: iommufd)
        _ = try device.attach(ioas.id)
        try ioas.map(buffer, at: 0x10_0000)
        try ioas.unmap(iova: 0x10_0000, length: UInt64(buffer.count))
        try device.detach()
        try device.close()
        try ioas.destroy()
        try iommufd.close()
    }

    /// A mock domain pins the pages while mapped (test module only).
    func mockCycle(_ buffer: UnsafeMutableRawBufferPointer) throws(IOMMUFDError) {
        let iommufd = try IOMMUFD.open()
        let ioas = try iommufd.allocIOAS()
        _ = try iommufd.testCommands.mockDomain(ioas.id)
        try ioas.map(buffer, at: 1 << 24)
        try ioas.unmap(iova: 1 << 24, length: UInt64(buffer.count))
        try iommufd.close()
    }

    func checkNoRefs(_ buffer: UnsafeMutableRawBufferPointer) throws(IOMMUFDError) {
        let iommufd = try IOMMUFD.open()
        try iommufd.testCommands.checkRefs(userVA: userPointer(buffer.baseAddress), length: UInt64(buffer.count), refs: 0)
    }

    /// One RAM -> edu -> RAM copy through a fresh bind and attach.
    func dmaStillWorks(_ cdev: String) throws(IOMMUFDError) {
        let iommufd = try IOMMUFD.open()
        let ioas = try iommufd.allocIOAS()
        let device = try VFIODevice.openCdev(cdev)
        _ = try device.bind(iommufd: iommufd)
        _ = try device.attach(ioas.id)
        let edu = try EduDevice(device)
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096)
        let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { source.deallocate(); destination.deallocate() }
        for i in 0..<4096 { source[i] = UInt8(truncatingIfNeeded: i &* 13 &+ 1) }
        destination.initializeMemory(as: UInt8.self, repeating: 0)
        try ioas.map(source, at: 0x10_0000, access: .read)
        try ioas.map(destination, at: 0x20_0000, access: .write)
        try edu.copyToDevice(from: 0x10_0000, deviceOffset: 0, length: 1024)
        try edu.wait()
        try edu.copyFromDevice(deviceOffset: 0, to: 0x20_0000, length: 1024)
        try edu.wait()
        try ioas.unmapAll()
        guard (0..<1024).allSatisfy({ destination[$0] == source[$0] }) else {
            throw IOMMUFDError(ioctl: "soak", errno: .ioError, origin: .validation, argument: "destination",
                               meaning: "the bytes copied through edu did not come back intact")
        }
    }
}

/// What the process holds: open descriptors, and the pinned (VmPin) and locked (VmLck)
/// memory of /proc/self/status. (The per-user locked_vm that iommufd charges by default
/// is not visible from /proc.)
struct ProcessAccounting: Equatable, CustomStringConvertible {
    var descriptors: Int
    var pinnedKB: Int
    var lockedKB: Int

    static func read() -> ProcessAccounting {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
                // "VmPin:\t       0 kB": tabs and spaces before the number.
                return Int(line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? -1
            }
            return -1
        }
        return ProcessAccounting(descriptors: fds, pinnedKB: field("VmPin"), lockedKB: field("VmLck"))
    }

    var description: String { "fds \(descriptors), VmPin \(pinnedKB) kB, VmLck \(lockedKB) kB" }
}
