// Device interrupts through VFIO SET_IRQS on the edu device: what GET_IRQ_INFO reports,
// MSI and INTx delivery to eventfds, DMA-completion interrupts, INTx mask/unmask with a
// pending interrupt, and disable (vfio_pci_intrs.c, 6.12). edu raises MSI when MSI is
// enabled, else INTx (hw/misc/edu.c); every raise is acknowledged through BAR0 0x64.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage
import VFIO

enum IRQCases {
    static let needs: Set<Requirement> = [.iommufd, .eduDevice]
    /// Generous under TCG: an interrupt normally arrives within milliseconds.
    static let arrive: Duration = .seconds(5)
    /// How long "nothing arrives" is watched.
    static let quiet: Duration = .milliseconds(1500)

    static func c(_ id: String, _ rule: String, _ body: @escaping @Sendable (CaseContext, DMAPath) throws -> Void) -> ConformanceCase {
        ConformanceCase(id, rule: rule, since: "6.6", requires: needs) { ctx in
            let path = try DMAPath(mode: .native, pci: try DMACases.firstEdu(ctx))
            try body(ctx, path)
        }
    }

    static var all: [ConformanceCase] { [info, msiRaise, msiCompletion, msiDisable, intxMaskUnmask, intxDisable, loopback] }

    static func wait(_ ctx: CaseContext, _ efd: borrowing EventFD, _ what: String, timeout: Duration = arrive) throws -> UInt64? {
        try ctx.step(what) { try efd.wait(timeout: timeout) }
    }

    static func status(_ ctx: CaseContext, _ path: DMAPath) throws -> UInt32 {
        try ctx.step("read interrupt status") {
            try path.edu.device.read32(.bar0, at: EduDevice.Register.interruptStatus)
        }
    }

    static func raise(_ ctx: CaseContext, _ path: DMAPath, _ v: UInt32) throws {
        try ctx.step("raise 0x\(String(v, radix: 16))") { try path.edu.raiseInterrupt(v) }
    }

    static func ack(_ ctx: CaseContext, _ path: DMAPath, _ v: UInt32) throws {
        try ctx.step("acknowledge 0x\(String(v, radix: 16))") { try path.edu.acknowledgeInterrupt(v) }
    }

    /// Enables INTx on `efd`. Every profile here routes a legacy IRQ line to the root-bus
    /// edus (measured on intel, amd and virtio with 6.12 and 7.3), so ENODEV is a failure.
    static func enableINTx(_ ctx: CaseContext, _ path: DMAPath, _ efd: borrowing EventFD) throws {
        try ctx.expectOK("SET_IRQS INTx trigger on an eventfd") {
            try path.edu.device.enableIRQs(.intx, eventFDs: [efd.descriptor])
        }
    }

    static let info = c("irq.info", "edu's IRQ indexes: INTx 1 vector maskable+automasked, MSI 1 vector NORESIZE, no MSI-X, REQ 1") { ctx, path in
        let intx = try ctx.expectOK("INTx info") { try path.edu.device.irqInfo(.intx) }
        try ctx.checkEqual(intx.count, 1, "INTx vectors")
        try ctx.check(intx.flags.isSuperset(of: [.eventfd, .maskable, .automasked]), "INTx flags 0x\(String(intx.flags.rawValue, radix: 16))")
        let msi = try ctx.expectOK("MSI info") { try path.edu.device.irqInfo(.msi) }
        try ctx.checkEqual(msi.count, 1, "MSI vectors")
        try ctx.check(msi.flags.isSuperset(of: [.eventfd, .noResize]) && !msi.flags.contains(.maskable), "MSI flags 0x\(String(msi.flags.rawValue, radix: 16))")
        let msix = try ctx.expectOK("MSI-X info") { try path.edu.device.irqInfo(.msix) }
        try ctx.checkEqual(msix.count, 0, "MSI-X vectors (edu has no MSI-X capability)")
    }

    static let msiRaise = c("irq.msi.raise", "an interrupt the edu raises with MSI enabled arrives on the MSI eventfd, once per raise") { ctx, path in
        let efd = try ctx.step("eventfd") { try EventFD.create() }
        try ctx.expectOK("enable MSI") { try path.edu.device.enableIRQs(.msi, eventFDs: [efd.descriptor]) }
        try ctx.checkEqual(try wait(ctx, efd, "nothing before the raise", timeout: .milliseconds(200)), nil, "event before any raise")
        for v: UInt32 in [0x1, 0x2] {
            try raise(ctx, path, v)
            let got = try wait(ctx, efd, "MSI for 0x\(String(v, radix: 16))")
            try ctx.check(got != nil, "no MSI arrived within \(arrive) for raise 0x\(String(v, radix: 16))")
            try ctx.check(try status(ctx, path) & v == v, "edu interrupt status lacks 0x\(String(v, radix: 16))")
            try ack(ctx, path, v)
            try ctx.checkEqual(try status(ctx, path), 0, "interrupt status after acknowledge")
        }
        try ctx.expectOK("disable MSI") { try path.edu.device.disableIRQs(.msi) }
    }

    static let msiCompletion = c("irq.msi.dma-completion", "a DMA started with edu's raise-IRQ bit signals the MSI eventfd when it completes, with status 0x100, and the data is in the device") { ctx, path in
        let src = try DMABuffer(size: 4096)
        src.fillPattern(seed: 81, length: 256)
        try ctx.step("map src") { try path.map(src, length: 4096, iova: DMAAdvancedCases.S) }
        let efd = try ctx.step("eventfd") { try EventFD.create() }
        try ctx.expectOK("enable MSI") { try path.edu.device.enableIRQs(.msi, eventFDs: [efd.descriptor]) }
        try ctx.step("start RAM → device DMA with the IRQ bit") {
            try path.edu.device.write32(.bar0, at: EduDevice.Register.dmaSource, UInt32(DMAAdvancedCases.S))
            try path.edu.device.write32(.bar0, at: EduDevice.Register.dmaDestination, UInt32(EduDevice.bufferBase))
            try path.edu.device.write32(.bar0, at: EduDevice.Register.dmaCount, 256)
            try path.edu.device.write32(.bar0, at: EduDevice.Register.dmaCommand, 1 | 4)
        }
        let got = try wait(ctx, efd, "completion MSI", timeout: .seconds(10))
        try ctx.check(got != nil, "no completion interrupt within 10 s")
        try ctx.check(try status(ctx, path) & EduDevice.dmaInterrupt != 0, "status lacks the DMA bit 0x100")
        try ack(ctx, path, EduDevice.dmaInterrupt)
        // edu's buffer is not visible through BAR0: copy it back out to check it.
        let dst = try DMABuffer(size: 4096)
        try ctx.step("map dst") { try path.map(dst, length: 4096, iova: DMAAdvancedCases.D) }
        try ctx.expectOK("device → RAM") {
            try path.edu.copyFromDevice(deviceOffset: 0, to: DMAAdvancedCases.D, length: 256)
            try path.edu.wait(timeout: .seconds(10))
        }
        try ctx.check(dst.matchesPattern(seed: 81, length: 256), "the completed DMA's bytes were not in the device")
    }

    static let msiDisable = c("irq.msi.disable", "after SET_IRQS disables MSI, a raise signals nothing on the former eventfd") { ctx, path in
        let efd = try ctx.step("eventfd") { try EventFD.create() }
        try ctx.expectOK("enable MSI") { try path.edu.device.enableIRQs(.msi, eventFDs: [efd.descriptor]) }
        try raise(ctx, path, 0x1)
        try ctx.check(try wait(ctx, efd, "control MSI") != nil, "control MSI did not arrive")
        try ack(ctx, path, 0x1)
        try ctx.expectOK("disable MSI") { try path.edu.device.disableIRQs(.msi) }
        try raise(ctx, path, 0x4)
        try ack(ctx, path, 0x4) // at once: with MSI off, edu asserts INTx, which nobody handles
        try ctx.checkEqual(try wait(ctx, efd, "nothing after disable", timeout: quiet), nil, "event after MSI was disabled")
    }

    static let intxMaskUnmask = c("irq.intx.mask-unmask", "INTx: a raise arrives and auto-masks; while user-masked a raise delivers nothing; UNMASK delivers the pending interrupt") { ctx, path in
        let efd = try ctx.step("eventfd") { try EventFD.create() }
        try enableINTx(ctx, path, efd)
        try raise(ctx, path, 0x1)
        try ctx.check(try wait(ctx, efd, "INTx") != nil, "no INTx arrived within \(arrive)")
        try ack(ctx, path, 0x1)
        try ctx.expectOK("unmask after the auto-mask") { try path.edu.device.unmaskIRQ(.intx) }
        try ctx.checkEqual(try wait(ctx, efd, "nothing pending", timeout: .milliseconds(300)), nil, "event after an unmask with nothing pending")
        try ctx.expectOK("MASK") { try path.edu.device.maskIRQ(.intx) }
        try raise(ctx, path, 0x2)
        try ctx.checkEqual(try wait(ctx, efd, "nothing while masked", timeout: quiet), nil, "INTx delivered while masked")
        try ctx.expectOK("UNMASK") { try path.edu.device.unmaskIRQ(.intx) }
        try ctx.check(try wait(ctx, efd, "pending INTx after unmask") != nil, "the pending interrupt was not delivered on unmask")
        try ack(ctx, path, 0x2)
        try ctx.expectOK("unmask") { try path.edu.device.unmaskIRQ(.intx) }
        try ctx.expectOK("disable INTx") { try path.edu.device.disableIRQs(.intx) }
    }

    static let intxDisable = c("irq.intx.disable", "after SET_IRQS disables INTx, a raise signals nothing") { ctx, path in
        let efd = try ctx.step("eventfd") { try EventFD.create() }
        try enableINTx(ctx, path, efd)
        try raise(ctx, path, 0x1)
        try ctx.check(try wait(ctx, efd, "control INTx") != nil, "control INTx did not arrive")
        try ack(ctx, path, 0x1)
        try ctx.expectOK("unmask") { try path.edu.device.unmaskIRQ(.intx) }
        try ctx.expectOK("disable INTx") { try path.edu.device.disableIRQs(.intx) }
        try raise(ctx, path, 0x8)
        try ack(ctx, path, 0x8)
        try ctx.checkEqual(try wait(ctx, efd, "nothing after disable", timeout: quiet), nil, "event after INTx was disabled")
        try ctx.expectErrno(.invalidArgument, "UNMASK with INTx disabled") {
            try path.edu.device.unmaskIRQ(.intx)
        }
    }

    static let loopback = c("irq.trigger-loopback", "SET_IRQS DATA_NONE|ACTION_TRIGGER fires the enabled vector's eventfd from software (MSI, then INTx)") { ctx, path in
        let efd = try ctx.step("eventfd") { try EventFD.create() }
        try ctx.expectOK("enable MSI") { try path.edu.device.enableIRQs(.msi, eventFDs: [efd.descriptor]) }
        try ctx.expectOK("trigger MSI") { try path.edu.device.triggerIRQ(.msi) }
        try ctx.checkEqual(try wait(ctx, efd, "MSI loopback", timeout: .seconds(1)), 1, "eventfd count after one trigger")
        try ctx.expectOK("disable MSI") { try path.edu.device.disableIRQs(.msi) }
        try enableINTx(ctx, path, efd)
        try ctx.expectOK("trigger INTx") { try path.edu.device.triggerIRQ(.intx) }
        try ctx.check(try wait(ctx, efd, "INTx loopback", timeout: .seconds(1)) != nil, "INTx loopback did not signal")
        try ctx.expectOK("disable INTx") { try path.edu.device.disableIRQs(.intx) }
    }
}
