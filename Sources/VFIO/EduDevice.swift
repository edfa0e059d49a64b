import Glibc
import IOMMUFD
import SystemPackage

/// QEMU's `edu` device (1234:11e8) as a DMA engine, through BAR0 pread/pwrite.
///
/// Register facts (hw/misc/edu.c): BAR0 is 1 MiB of MMIO; offsets below 0x80 take
/// only 4-byte accesses, the DMA registers 4 or 8 bytes. DMA addresses: the RAM side
/// is a bus address (IOVA), the device side is 0x40000 + offset in edu's own space.
/// A copy runs on a QEMU timer ~100 ms (virtual) after the command write; writes to
/// the DMA registers are ignored while one runs. edu masks RAM-side addresses with
/// its `dma_mask` property (28 bits by default: `-device edu,dma_mask=...` to widen).
///
/// Copy limit: a copy may move at most 4095 bytes and must not reach the last byte of the
/// 4 KiB device buffer (`deviceOffset + length < 4096`): QEMU 7.2's edu aborts the whole
/// VM on such a copy (its bounds check is off by one), so `copyToDevice`/`copyFromDevice`
/// refuse it with a typed error before touching the device.
public struct EduDevice: ~Copyable, DMAEngine {
    public let device: VFIODevice
    /// RAM-side addresses must fit this mask or edu silently clamps them.
    public let dmaMask: UInt64

    public enum Register {
        public static let identification: UInt64 = 0x00
        public static let liveness: UInt64 = 0x04
        public static let status: UInt64 = 0x20
        public static let interruptStatus: UInt64 = 0x24
        public static let interruptRaise: UInt64 = 0x60
        public static let interruptAck: UInt64 = 0x64
        public static let dmaSource: UInt64 = 0x80
        public static let dmaDestination: UInt64 = 0x88
        public static let dmaCount: UInt64 = 0x90
        public static let dmaCommand: UInt64 = 0x98
    }

    public static let expectedID: UInt32 = 0x0100_00ed
    public static let bufferBase: UInt64 = 0x40000
    public static let bufferSize = 4096
    /// Bit of the interrupt status edu sets when a DMA with the IRQ bit completes.
    public static let dmaInterrupt: UInt32 = 0x100

    static let cmdStart: UInt64 = 1 << 0
    static let cmdToRAM: UInt64 = 1 << 1
    static let cmdIRQ: UInt64 = 1 << 2

    /// Raise an interrupt when each copy completes.
    public let interruptOnCompletion: Bool

    /// Takes the device, checks it is edu (id register), that BAR0 answers (liveness),
    /// and sets Bus Master so it may DMA. On failure the device fd is closed.
    public init(_ device: consuming VFIODevice, dmaMask: UInt64 = (1 << 28) - 1,
                interruptOnCompletion: Bool = false) throws(IOMMUFDError) {
        let id = try device.read32(.bar0, at: Register.identification)
        guard id == Self.expectedID else {
            throw IOMMUFDError(ioctl: "edu(\(device.name))", errno: .operationNotSupportedByDevice, origin: .validation,
                               argument: "BAR0[0x00]",
                               meaning: "identification register reads 0x\(String(id, radix: 16)), not 0x\(String(Self.expectedID, radix: 16)): not an edu device")
        }
        let probe: UInt32 = 0x5a5a_1234
        try device.write32(.bar0, at: Register.liveness, probe)
        let back = try device.read32(.bar0, at: Register.liveness)
        guard back == ~probe else {
            throw IOMMUFDError(ioctl: "edu(\(device.name))", errno: .ioError, origin: .validation, argument: "BAR0[0x04]",
                               meaning: "liveness check failed: wrote 0x\(String(probe, radix: 16)), read 0x\(String(back, radix: 16)) (expected its complement)")
        }
        try device.setPCIBusMaster(true)
        self.device = device
        self.dmaMask = dmaMask
        self.interruptOnCompletion = interruptOnCompletion
    }

    public var deviceBufferSize: Int { Self.bufferSize }

    /// RAM (`iova`) → device buffer; `deviceOffset + length` must stay below 4096 (see the type's note).
    public func copyToDevice(from iova: UInt64, deviceOffset: Int, length: Int) throws(IOMMUFDError) {
        try check(iova: iova, deviceOffset: deviceOffset, length: length)
        try start(source: iova, destination: Self.bufferBase + UInt64(deviceOffset), count: length, toRAM: false)
    }

    /// Device buffer → RAM (`iova`); `deviceOffset + length` must stay below 4096 (see the type's note).
    public func copyFromDevice(deviceOffset: Int, to iova: UInt64, length: Int) throws(IOMMUFDError) {
        try check(iova: iova, deviceOffset: deviceOffset, length: length)
        try start(source: Self.bufferBase + UInt64(deviceOffset), destination: iova, count: length, toRAM: true)
    }

    /// Polls the command register's start bit (edu clears it when the copy is done).
    public func wait(timeout: Duration = .seconds(10)) throws(IOMMUFDError) {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let cmd = UInt64(try device.read32(.bar0, at: Register.dmaCommand))
            if cmd == UInt64(UInt32.max) { throw deviceGone("DMA command") }
            if cmd & Self.cmdStart == 0 { return }
            if clock.now >= deadline {
                throw IOMMUFDError(ioctl: "edu(\(device.name))", errno: .timedOut, origin: .validation, argument: "BAR0[0x98]",
                                   meaning: "DMA did not complete within \(timeout) (command 0x\(String(cmd, radix: 16)))")
            }
            usleep(1000)
        }
    }

    public func status() throws(IOMMUFDError) -> DMAStatus {
        let cmd = UInt64(try device.read32(.bar0, at: Register.dmaCommand))
        let irq = try device.read32(.bar0, at: Register.interruptStatus)
        return DMAStatus(busy: cmd & Self.cmdStart != 0, interruptStatus: irq)
    }

    public func raiseInterrupt(_ value: UInt32) throws(IOMMUFDError) {
        try device.write32(.bar0, at: Register.interruptRaise, value)
    }

    public func acknowledgeInterrupt(_ value: UInt32) throws(IOMMUFDError) {
        try device.write32(.bar0, at: Register.interruptAck, value)
    }

    /// Gives the VFIO device back (e.g. to reset or close it explicitly).
    public consuming func release() -> VFIODevice { device }

    // Rejects what edu would log as out of bounds or clamp: the copy must stay in the
    // 4 KiB buffer and the IOVA inside edu's DMA mask.
    private func check(iova: UInt64, deviceOffset: Int, length: Int) throws(IOMMUFDError) {
        func reject(_ arg: String, _ why: String) -> IOMMUFDError {
            IOMMUFDError(ioctl: "edu(\(device.name))", errno: .invalidArgument, origin: .validation, argument: arg, meaning: why)
        }
        // QEMU 7.2's edu range check is off by one (a copy may not reach the buffer's last
        // byte) and a failed check aborts the whole VM, so keep strictly inside.
        guard length > 0, deviceOffset >= 0, deviceOffset + length < Self.bufferSize else {
            throw reject("length", "copy of \(length) bytes at device offset \(deviceOffset) must end before the 4 KiB edu buffer's last byte (QEMU 7.2 aborts otherwise)")
        }
        let (last, overflow) = iova.addingReportingOverflow(UInt64(length - 1))
        guard !overflow, last & ~dmaMask == 0 else {
            throw reject("iova", "IOVA range 0x\(String(iova, radix: 16))+\(length) exceeds edu's dma_mask 0x\(String(dmaMask, radix: 16)); map lower or start QEMU with -device edu,dma_mask=...")
        }
    }

    private func start(source: UInt64, destination: UInt64, count: Int, toRAM: Bool) throws(IOMMUFDError) {
        if UInt64(try device.read32(.bar0, at: Register.dmaCommand)) & Self.cmdStart != 0 {
            throw IOMMUFDError(ioctl: "edu(\(device.name))", errno: .resourceBusy, origin: .validation, argument: "BAR0[0x98]",
                               meaning: "a DMA is still running; edu ignores register writes until it completes (call wait first)")
        }
        try writeAddress(Register.dmaSource, source)
        try writeAddress(Register.dmaDestination, destination)
        try writeAddress(Register.dmaCount, UInt64(count))
        var cmd = Self.cmdStart
        if toRAM { cmd |= Self.cmdToRAM }
        if interruptOnCompletion { cmd |= Self.cmdIRQ }
        try device.write32(.bar0, at: Register.dmaCommand, UInt32(cmd))
    }

    // The command register is read with 4-byte accesses: before 6.11 vfio-pci split an
    // 8-byte pread into two 4-byte ones, and edu answers all ones at 0x9c.
    // A 4-byte write sets the whole 64-bit DMA register (edu stores the access's value),
    // so small values avoid relying on 8-byte region writes (vfio-pci gained them in 6.11).
    private func writeAddress(_ reg: UInt64, _ value: UInt64) throws(IOMMUFDError) {
        if value <= UInt64(UInt32.max) {
            try device.write32(.bar0, at: reg, UInt32(value))
        } else {
            try device.write64(.bar0, at: reg, value)
        }
    }

    private func deviceGone(_ what: String) -> IOMMUFDError {
        IOMMUFDError(ioctl: "edu(\(device.name))", errno: .ioError, origin: .validation, argument: what,
                     meaning: "register reads all ones: the device is gone or its memory decoding is off")
    }
}
