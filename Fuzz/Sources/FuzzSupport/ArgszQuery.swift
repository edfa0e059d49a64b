import Glibc
import IOMMUFD

extension FuzzKernel {
    /// The kernel's side of a VFIO query with `argsz` first (GET_INFO, GET_REGION_INFO,
    /// IOMMU_GET_INFO, GET_IRQ_INFO, GET_PCI_HOT_RESET_INFO): the library makes the
    /// buffer `argsz` bytes long. Input bytes overwrite it after argsz, and argsz comes
    /// back as sent or, when the input says so, as any other value (a real kernel
    /// raises it to ask for room for a capability chain).
    public func answerArgszQuery(_ argument: UnsafeMutableRawPointer?) -> Int32 {
        guard let argument else { return -EFAULT }
        let argsz = Int(argument.load(as: UInt32.self))
        let r = result()
        let body = input.data(max: max(argsz - 4, 0))
        for (i, b) in body.enumerated() { argument.storeBytes(of: b, toByteOffset: 4 + i, as: UInt8.self) }
        if input.bool() { argument.storeBytes(of: input.u32(), as: UInt32.self) }
        return r
    }

    /// Answers each of `requests` with `answerArgszQuery`.
    public func answerArgszQueries(_ requests: [IoctlRequest]) {
        for request in requests { handle(request) { k, arg in k.answerArgszQuery(arg) } }
    }
}
