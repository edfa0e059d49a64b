import IOMMUFD
import Testing
@testable import VFIO

/// Real eventfds (no mock needed): what IRQ eventfds do when the kernel signals them.
@Suite struct EventFDTests {
    @Test func signalThenWaitAndTimeout() throws {
        let efd = try EventFD.create()
        #expect(try efd.read() == nil)
        #expect(try efd.wait(timeout: .milliseconds(10)) == nil)
        try efd.signal(3)
        try efd.signal(2)
        #expect(try efd.wait(timeout: .seconds(1)) == 5)
        #expect(try efd.read() == nil)
    }

    @Test func errorsNameTheirIoctlAndMeaning() {
        let e = IOMMUFDError.kernel(.vfioDeviceBindIOMMUFD, .fileDescriptorInBadState)
        #expect(e.description.contains("EBADFD") && e.description.contains("not an iommufd"))
        let p = IOMMUFDError.kernel(.vfioDeviceBindIOMMUFD, .notPermitted)
        #expect(p.meaning.contains("allow_unsafe_interrupts"))
        // Every VFIO request has a distinct name; numbers may repeat across fd kinds.
        #expect(Set(IoctlRequest.allVFIO.map(\.name)).count == IoctlRequest.allVFIO.count)
        #expect(IoctlRequest.vfioIOMMUGetInfo.number == IoctlRequest.vfioDeviceGetPCIHotResetInfo.number)
    }
}
