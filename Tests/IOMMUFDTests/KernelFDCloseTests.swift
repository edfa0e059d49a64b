import CIOMMUFD
import Foundation
import Glibc
import IOMMUFD
import Synchronization
import SystemPackage
import Testing

/// A close racing ioctls on the same `KernelFD`, against a slow fake driver.
@Suite struct KernelFDCloseTests {
    @Test func closeIsOnceAndForgetsTheNumber() {
        let driver = SlowDriver()
        let fd = KernelFD(adopting: 4507, driver: driver)
        #expect(fd.rawValue == 4507)
        #expect(fd.withDescriptor { $0 } == 4507)
        #expect(fd.close() == 0 && fd.close() == 0)
        #expect(driver.closes == 1)
        #expect(fd.rawValue == nil)
        #expect(fd.withDescriptor { $0 } == nil)
    }

    @Test func deinitClosesAnOpenDescriptorOnly() {
        let driver = SlowDriver()
        do { _ = KernelFD(adopting: 4508, driver: driver) }
        #expect(driver.closes == 1)
        do { _ = KernelFD(adopting: 4509, driver: driver).close() }
        #expect(driver.closes == 2)
    }

    /// Calls that announced themselves finish on the open descriptor; later ones get EBADF
    /// without reaching the driver; the driver never sees an ioctl after its close.
    @Test func closeWaitsForRunningIoctlsAndLaterOnesGetEBADF() throws {
        let driver = SlowDriver()
        let fd = KernelFD(adopting: 4506, driver: driver)
        let outcomes = Outcomes()
        let done = DispatchGroup()
        for worker in 0..<5 {
            done.enter()
            Thread {
                defer { done.leave() }
                if worker == 4 {  // the closer, once the others are running
                    while outcomes.all.count < 40 { usleep(100) }
                    outcomes.closeResult = fd.close()
                    return
                }
                // Until a few EBADFs came back (or a bound, should close never land).
                var badFDs = 0
                for _ in 0..<100_000 where badFDs < 3 {
                    var cmd = iommu_destroy()
                    cmd.size = 8
                    do throws(IOMMUFDError) { try fd.perform(.destroy, &cmd); outcomes.add(nil) }
                    catch { outcomes.add(error.errno); badFDs += error.errno == .badFileDescriptor ? 1 : 0 }
                }
            }.start()
        }
        done.wait()
        let all = outcomes.all
        #expect(all.allSatisfy { $0 == nil || $0 == .badFileDescriptor })
        #expect(all.filter { $0 == .badFileDescriptor }.count == 12)
        #expect(all.filter { $0 == nil }.count >= 40)
        #expect(driver.ioctlsAfterClose == 0)
        #expect(driver.closes == 1 && outcomes.closeResult == 0)
        #expect(fd.rawValue == nil)
    }
}

/// What the racing threads saw.
final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [Errno?] = []
    private var closed: Int32?
    func add(_ e: Errno?) { lock.withLock { seen.append(e) } }
    var all: [Errno?] { lock.withLock { seen } }
    var closeResult: Int32? {
        get { lock.withLock { closed } }
        set { lock.withLock { closed = newValue } }
    }
}

/// A driver whose ioctls take a little while and which notices an ioctl after its close.
final class SlowDriver: IoctlDriver, Sendable {
    private let closed = Atomic<Bool>(false)
    private let late = Atomic<Int>(0)
    private let closeCount = Atomic<Int>(0)
    var ioctlsAfterClose: Int { late.load(ordering: .relaxed) }
    var closes: Int { closeCount.load(ordering: .relaxed) }

    func ioctl(fd: Int32, request: UInt, argument: UnsafeMutableRawPointer?) -> Int32 {
        if closed.load(ordering: .acquiring) { late.wrappingAdd(1, ordering: .relaxed) }
        usleep(50)
        if closed.load(ordering: .acquiring) { late.wrappingAdd(1, ordering: .relaxed) }
        return 0
    }

    func close(fd: Int32) -> Int32 {
        closed.store(true, ordering: .releasing)
        closeCount.wrappingAdd(1, ordering: .relaxed)
        return 0
    }
}
