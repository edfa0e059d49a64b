import CIOMMUFD
import IOMMUFD
import SystemPackage
import Testing

/// IOMMU_IOAS_NOIOMMU_GET_PA through the MOCK driver, and the error text of a request
/// the library rejects itself.
@Suite struct NoIOMMUAndErrorTextTests {
    @Test func getPASendsTheFieldsAndReadsTheAnswer() throws {
        let mock = MockIoctlDriver()
        mock.script(.ioasNoIOMMUGetPA, .u32(0x1234_5000, at: MemoryLayout<iommu_ioas_noiommu_get_pa>.offset(of: \.out_phys) ?? 0))
        // (the low half of out_phys; the high half stays 0)
        let iommufd = IOMMUFD(adopting: 201, driver: mock)
        let ioas = IOAS(id: IOASID(rawValue: 9), fd: iommufd.fd)
        let extent = try ioas.physicalAddress(iova: 0x10_0000, length: 0x1000)
        #expect(extent.physicalAddress == 0x1234_5000)
        #expect(extent.length == 0x1000, "the kernel left length as asked")
        let sent = try #require(mock.calls.first).decode(iommu_ioas_noiommu_get_pa.self)
        #expect(sent.size == 40 && sent.ioas_id == 9 && sent.iova == 0x10_0000 && sent.flags == 0 && sent.__reserved == 0)
        #expect(mock.calls.first?.request == CIOMMUFD_REQ_IOMMU_IOAS_NOIOMMU_GET_PA)
        _ = consume ioas
    }

    @Test func zeroLengthIsRejectedBeforeTheSyscallAndSaysItsErrno() {
        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 202, driver: mock)
        let ioas = IOAS(id: IOASID(rawValue: 9), fd: iommufd.fd)
        do {
            _ = try ioas.physicalAddress(iova: 0x10_0000, length: 0)
            Issue.record("a zero length was sent")
        } catch {
            #expect(error.origin == .validation)
            #expect(error.description == "IOMMU_IOAS_NOIOMMU_GET_PA [length]: EINVAL (22), rejected before the syscall: must be non-zero (the most bytes to report)")
        }
        #expect(mock.calls.filter { $0.request == CIOMMUFD_REQ_IOMMU_IOAS_NOIOMMU_GET_PA }.isEmpty)
        _ = consume ioas
    }

    @Test func everyKernelErrnoOfGetPAHasAMeaning() {
        for errno: Errno in [.notPermitted, .notSupported, .invalidArgument, .overflow, .noSuchFileOrDirectory] {
            #expect(IoctlRequest.ioasNoIOMMUGetPA.meanings[errno] != nil, "no GET_PA-specific meaning for \(errno)")
        }
    }
}
