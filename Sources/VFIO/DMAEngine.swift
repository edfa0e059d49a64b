import IOMMUFD

/// A device that copies between its own buffer and IOVAs: what a userspace driver test
/// needs to prove that mappings work (data lands) and that unmapped IOVAs do not.
public protocol DMAEngine: ~Copyable {
    /// Bytes of the device-side buffer.
    var deviceBufferSize: Int { get }

    /// Starts a copy of `length` bytes from `iova` (host RAM, through the IOMMU) into
    /// the device buffer at `deviceOffset`. Returns at once; see `wait`.
    func copyToDevice(from iova: UInt64, deviceOffset: Int, length: Int) throws(IOMMUFDError)

    /// Starts a copy from the device buffer at `deviceOffset` to `iova`.
    func copyFromDevice(deviceOffset: Int, to iova: UInt64, length: Int) throws(IOMMUFDError)

    /// Waits until the last copy finished; throws ETIMEDOUT when it does not in `timeout`.
    func wait(timeout: Duration) throws(IOMMUFDError)

    /// The engine's current state.
    func status() throws(IOMMUFDError) -> DMAStatus

    /// Makes the device raise an interrupt with `value` in its interrupt status.
    func raiseInterrupt(_ value: UInt32) throws(IOMMUFDError)

    /// Clears `value` bits of the interrupt status (and deasserts INTx when none are left).
    func acknowledgeInterrupt(_ value: UInt32) throws(IOMMUFDError)
}

public struct DMAStatus: Sendable, Hashable {
    /// A copy is in flight.
    public let busy: Bool
    /// The device's interrupt status bits.
    public let interruptStatus: UInt32
    public init(busy: Bool, interruptStatus: UInt32) {
        self.busy = busy
        self.interruptStatus = interruptStatus
    }
}
