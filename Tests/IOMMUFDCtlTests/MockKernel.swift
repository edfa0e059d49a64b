import CIOMMUFD
import Glibc
import IOMMUFD
import Synchronization

/// MOCK: a tiny model of iommufd's IOAS semantics, playing the kernel behind `IoctlDriver`.
/// It knows IOAS_ALLOC, MAP (fixed or auto IOVA), UNMAP (exact areas, all, split → ENOENT),
/// IOVA_RANGES, DESTROY and OPTION; every request number >= `firstUnknownNr` except
/// IOMMU_TEST_CMD answers ENOTTY, like a 6.12 kernel. Of the legacy VFIO ioctls it plays
/// SET_CONTAINER, SET_IOMMU, GET_DEVICE_FD, MAP_DMA and UNMAP_DMA (see MockLegacyVFIO.swift).
final class MockKernel: IoctlDriver, @unchecked Sendable {
    struct State {
        var nextID: UInt32 = 1
        var ioas: Set<UInt32> = []
        var areas: [UInt32: [(iova: UInt64, length: UInt64)]] = [:]
        var calls: [UInt] = []
        var nextAutoIOVA: UInt64 = 0x1000_0000
        /// The container's DMA mappings (one container per mock).
        var dma: [(iova: UInt64, size: UInt64)] = []
    }
    let state = Mutex(State())
    let firstUnknownNr: UInt
    let testCmd: Bool

    init(firstUnknownNr: UInt = 0x8f, testCmd: Bool = true) {
        self.firstUnknownNr = firstUnknownNr
        self.testCmd = testCmd
    }

    var calls: [UInt] { state.withLock { $0.calls } }

    func close(fd: Int32) -> Int32 { 0 }

    func ioctl(fd: Int32, request: UInt, argument: UnsafeMutableRawPointer?) -> Int32 {
        state.withLock { $0.calls.append(request) }
        let nr = request & 0xff
        let isIOMMUFD = request & 0xff00 == 0x3b00 && nr >= 0x80
        if !isIOMMUFD, let answer = legacyVFIO(request, argument) { return answer }
        guard isIOMMUFD else { return -EINVAL }  // other VFIO container/device ioctls: "known", wrong args
        if nr == 0xa0 { return testCmd ? -EINVAL : -ENOTTY }
        if nr >= firstUnknownNr { return -ENOTTY }
        guard let p = argument else { return -EFAULT }
        let size = p.load(as: UInt32.self)
        switch request {
        case IoctlRequest.ioasAlloc.number:
            guard size >= 12 else { return -EINVAL }
            let id = state.withLock { s in defer { s.nextID += 1 }; s.ioas.insert(s.nextID); return s.nextID }
            p.storeBytes(of: id, toByteOffset: 8, as: UInt32.self)
            return 0
        case IoctlRequest.destroy.number:
            guard size >= 8 else { return -EINVAL }
            let id = p.load(fromByteOffset: 4, as: UInt32.self)
            return state.withLock { s in
                guard s.ioas.remove(id) != nil else { return -ENOENT }
                s.areas[id] = nil
                return 0
            }
        case IoctlRequest.ioasMap.number:
            guard size >= 40 else { return -EINVAL }
            let flags = p.load(fromByteOffset: 4, as: UInt32.self)
            let id = p.load(fromByteOffset: 8, as: UInt32.self)
            let length = p.load(fromByteOffset: 24, as: UInt64.self)
            var iova = p.load(fromByteOffset: 32, as: UInt64.self)
            if flags & 6 == 0 || length == 0 || length % 0x1000 != 0 { return -EINVAL }
            let result: Int32 = state.withLock { s in
                guard s.ioas.contains(id) else { return -ENOENT }
                if flags & 1 == 0 { iova = s.nextAutoIOVA; s.nextAutoIOVA += length }
                let overlaps = s.areas[id, default: []].contains { iova < $0.iova + $0.length && $0.iova < iova + length }
                if overlaps { return -EEXIST }
                s.areas[id, default: []].append((iova, length))
                return 0
            }
            if result == 0 { p.storeBytes(of: iova, toByteOffset: 32, as: UInt64.self) }
            return result
        case IoctlRequest.ioasUnmap.number:
            guard size >= 24 else { return -EINVAL }
            let id = p.load(fromByteOffset: 4, as: UInt32.self)
            let iova = p.load(fromByteOffset: 8, as: UInt64.self)
            let length = p.load(fromByteOffset: 16, as: UInt64.self)
            if length == 0 { return -EINVAL }
            var unmapped: UInt64 = 0
            let result: Int32 = state.withLock { s in
                guard s.ioas.contains(id) else { return -ENOENT }
                if iova == 0 && length == .max {
                    unmapped = s.areas[id, default: []].reduce(0) { $0 + $1.length }
                    s.areas[id] = []
                    return 0
                }
                let last = iova + length - 1
                let touched = s.areas[id, default: []].filter { $0.iova <= last && iova <= $0.iova + $0.length - 1 }
                if touched.isEmpty { return -ENOENT }
                // iommufd never splits an area.
                if touched.contains(where: { $0.iova < iova || $0.iova + $0.length - 1 > last }) { return -ENOENT }
                s.areas[id]?.removeAll { a in touched.contains { $0.iova == a.iova } }
                unmapped = touched.reduce(0) { $0 + $1.length }
                return 0
            }
            if result == 0 { p.storeBytes(of: unmapped, toByteOffset: 16, as: UInt64.self) }
            return result
        case IoctlRequest.ioasIOVARanges.number:
            guard size >= 32 else { return -EINVAL }
            let capacity = p.load(fromByteOffset: 8, as: UInt32.self)
            p.storeBytes(of: UInt32(2), toByteOffset: 8, as: UInt32.self)
            p.storeBytes(of: UInt64(0x1000), toByteOffset: 24, as: UInt64.self)
            if capacity < 2 { return -EMSGSIZE }
            let ranges = UnsafeMutableRawPointer(bitPattern: UInt(p.load(fromByteOffset: 16, as: UInt64.self)))!
            ranges.storeBytes(of: UInt64(0), toByteOffset: 0, as: UInt64.self)
            ranges.storeBytes(of: UInt64(0xfedf_ffff), toByteOffset: 8, as: UInt64.self)
            ranges.storeBytes(of: UInt64(0xfef0_0000), toByteOffset: 16, as: UInt64.self)
            ranges.storeBytes(of: UInt64(0x7f_ffff_ffff), toByteOffset: 24, as: UInt64.self)
            return 0
        case IoctlRequest.ioasAllowIOVAs.number, IoctlRequest.option.number:
            return size >= 16 ? 0 : -EINVAL
        default:
            return size == 0 ? -EINVAL : -EOPNOTSUPP
        }
    }
}

/// A fresh fake descriptor number per test, so parallel tests never collect each other's events.
enum FakeFD {
    private static let counter = Mutex<Int32>(10_000)
    static func next() -> Int32 { counter.withLock { v in v += 1; return v } }
}
