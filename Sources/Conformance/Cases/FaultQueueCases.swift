// IOMMU_FAULT_QUEUE_ALLOC (6.11+) with mock I/O page faults (IOMMU_TEST_OP_TRIGGER_IOPF):
// reading iommu_hwpt_pgfault records from the fault fd and writing iommu_hwpt_page_response
// back, as 7.3's eventq.c (iommufd_fault_fops_read/_write, iommufd_auto_response_faults)
// and io-pgfault.c answer them (6.12's fault.c has the same read/write rules); plus
// nested HWPTs with a fault queue on a vIOMMU (the kernel's viommu_alloc_nested_iopf).
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

enum FaultQueueCases {
    static var all: [ConformanceCase] { cases }

    static let record = MemoryLayout<iommu_hwpt_pgfault>.size
    static let response = MemoryLayout<iommu_hwpt_page_response>.size

    /// A fault queue, a nested HWPT (on the NEST_PARENT, or on the vIOMMU) reporting to it,
    /// and the device attached there (after a vDEVICE when on a vIOMMU).
    static func attachIOPF(_ ctx: CaseContext, _ rig: NestRig, hwpt: inout HWPTID) throws -> FaultQueue {
        let q = try ctx.step("FAULT_QUEUE_ALLOC") { try rig.iommufd.allocFaultQueue() }
        let id = try ctx.step("nested HWPT with FAULT_ID_VALID") {
            try rig.iommufd.allocNestedHWPT(device: rig.device, parent: .hwpt(rig.parent), data: NestRig.nestedData, fault: q.id).release()
        }
        try ctx.step("replace the device onto it") { try rig.test.mockDomainReplace(rig.stdev, with: id) }
        hwpt = id
        return q
    }

    /// TRIGGER_IOPF as the selftest does (PASID 1, R|W at 0xdeadbeaf), group `group`.
    static func trigger(_ ctx: CaseContext, _ rig: NestRig, group: UInt32 = 2) throws {
        try ctx.step("TRIGGER_IOPF group \(group)") {
            try rig.test.triggerIOPF(rig.device, pasid: 0x1, groupID: group, permissions: [.read, .write], address: 0xdeadbeaf)
        }
    }

    static func readOne(_ ctx: CaseContext, _ q: borrowing FaultQueue) throws -> PageFault {
        let faults = try ctx.step("read one fault") { try q.readFaults(max: 1, timeout: .seconds(1)) }
        try ctx.checkEqual(faults.count, 1, "faults read")
        return faults[0]
    }

    static let cases: [ConformanceCase] = [
        nestCase("fault-queue.alloc", "FAULT_QUEUE_ALLOC returns an object and an fd that is always writable (POLLOUT) and, empty, not readable (read returns 0 bytes); any flag fails EOPNOTSUPP; the object cannot be destroyed while the fd is open (EBUSY)", since: "6.11", .parentOnly) { ctx, rig in
            let q = try ctx.expectOK("FAULT_QUEUE_ALLOC") { try rig.iommufd.allocFaultQueue() }
            try ctx.check(q.id.rawValue != 0 && q.queue.rawValue != nil, "no id or fd")
            try ctx.expectErrno(.notSupported, "flags 1 (raw)") {
                try sendRaw(iommu_fault_alloc.self, .faultQueueAlloc, on: rig.fd, u32: [(\.flags, 1)])
            }
            try ctx.checkEqual(pollEvents(q.queue, ms: 0), Int16(POLLOUT), "poll revents of an empty queue")
            try ctx.checkEqual(rawRead(q.queue, count: record).result, "0 bytes", "read of an empty queue")
            try ctx.expectErrno(.resourceBusy, "DESTROY with the fd open") { try rig.iommufd.destroy(q.id) }
            try closeAndDestroy(ctx, q, "close the fd, then DESTROY")
        },
        nestCase("fault-queue.iopf-response", "an I/O page fault of a device on a HWPT with a fault queue reads as one iommu_hwpt_pgfault (flags LAST_PAGE|PASID_VALID, the device id, pasid, grpid, perm and addr as raised, length 0, a cookie); writing a response with that cookie consumes it: a second one fails EINVAL (eventq.c:213)", since: "6.11", .parentOnly) { ctx, rig in
            var hwpt = HWPTID(rawValue: 0)
            let q = try attachIOPF(ctx, rig, hwpt: &hwpt)
            try ctx.expectErrno(.resourceBusy, "DESTROY the attached IOPF HWPT") { try rig.iommufd.destroy(hwpt) }
            try trigger(ctx, rig)
            try ctx.check(pollEvents(q.queue) & Int16(POLLIN) != 0, "no POLLIN with a fault queued")
            let f = try readOne(ctx, q)
            let flags = UInt32(IOMMU_PGFAULT_FLAGS_PASID_VALID.rawValue | IOMMU_PGFAULT_FLAGS_LAST_PAGE.rawValue)
            try ctx.checkEqual(f.flags, flags, "flags")
            try ctx.checkEqual([f.device.rawValue, f.pasid ?? 0, f.groupID, f.permissions.rawValue, f.length],
                               [rig.device.rawValue, 1, 2, PageFault.Permissions([.read, .write]).rawValue, 0], "dev_id, pasid, grpid, perm, length")
            try ctx.checkEqual(f.address, 0xdeadbeaf, "addr")
            try ctx.check(f.cookie != 0, "cookie 0 (the response xarray allocates from 1)")
            try ctx.expectOK("write the response") { try q.respond(cookie: f.cookie) }
            try ctx.checkEqual(rawWrite(q.queue, pageResponseBytes(cookie: f.cookie, code: 0)), "EINVAL", "respond to it again")
            try ctx.checkEqual(rawRead(q.queue, count: record).result, "0 bytes", "read of the drained queue")
        },
        nestCase("fault-queue.bad-response", "a response write whose size is not a multiple of iommu_hwpt_page_response fails ESPIPE; a code other than SUCCESS/INVALID or an unknown cookie fails EINVAL; a 0-byte write returns 0; a batch stops at its first bad response and reports the bytes consumed before it", since: "6.11", .parentOnly) { ctx, rig in
            var hwpt = HWPTID(rawValue: 0)
            let q = try attachIOPF(ctx, rig, hwpt: &hwpt)
            try trigger(ctx, rig, group: 2)
            try trigger(ctx, rig, group: 3)
            let faults = try ctx.step("read both faults") { try q.readFaults(max: 2, timeout: .seconds(1)) }
            try ctx.checkEqual(faults.map(\.groupID), [2, 3], "groups read")
            guard faults.count == 2 else { return }
            let (a, b) = (faults[0].cookie, faults[1].cookie)
            try ctx.checkEqual(rawWrite(q.queue, Array(pageResponseBytes(cookie: a, code: 0).prefix(response - 1))), "ESPIPE", "7-byte write")
            try ctx.checkEqual(rawWrite(q.queue, pageResponseBytes(cookie: a, code: 2)), "EINVAL", "code 2")
            try ctx.checkEqual(rawWrite(q.queue, pageResponseBytes(cookie: max(a, b) + 100, code: 0)), "EINVAL", "unknown cookie")
            try ctx.checkEqual(rawWrite(q.queue, []), "0 bytes", "0-byte write")
            try ctx.checkEqual(rawWrite(q.queue, pageResponseBytes(cookie: a, code: 1) + pageResponseBytes(cookie: b, code: 7)),
                               "\(response) bytes", "[INVALID for the first, code 7 for the second]")
            try ctx.checkEqual(rawWrite(q.queue, pageResponseBytes(cookie: a, code: 0)), "EINVAL", "the first again (consumed)")
            try ctx.checkEqual(rawWrite(q.queue, pageResponseBytes(cookie: b, code: 0)), "\(response) bytes", "the second (still pending)")
        },
        nestCase("fault-queue.bad-read", "a fault-fd read whose size is not a multiple of iommu_hwpt_pgfault fails ESPIPE (eventq.c:137); with a fault queued, a read too small for its group (0 bytes) fails EINVAL and leaves it queued; whole groups only", since: "6.11", .parentOnly) { ctx, rig in
            var hwpt = HWPTID(rawValue: 0)
            let q = try attachIOPF(ctx, rig, hwpt: &hwpt)
            try ctx.checkEqual(rawRead(q.queue, count: 1).result, "ESPIPE", "1-byte read (empty)")
            try trigger(ctx, rig)
            try ctx.checkEqual(rawRead(q.queue, count: 1).result, "ESPIPE", "1-byte read")
            try ctx.checkEqual(rawRead(q.queue, count: record + 1).result, "ESPIPE", "record + 1 byte read")
            try ctx.checkEqual(rawRead(q.queue, count: 0).result, "EINVAL", "0-byte read")
            try trigger(ctx, rig, group: 3)
            let r = rawRead(q.queue, count: 3 * record)
            try ctx.checkEqual(r.result, "\(2 * record) bytes", "3-record read of 2 queued faults")
            try ctx.checkEqual(rawRead(q.queue, count: 0).result, "0 bytes", "0-byte read of the drained queue")
        },
        nestCase("fault-queue.batch", "several fault groups read in one read(2) come with distinct cookies and can be answered in one write(2) of as many responses", since: "6.11", .parentOnly) { ctx, rig in
            var hwpt = HWPTID(rawValue: 0)
            let q = try attachIOPF(ctx, rig, hwpt: &hwpt)
            for g in UInt32(1)...3 { try trigger(ctx, rig, group: g) }
            let faults = try ctx.step("read") { try q.readFaults(max: 8, timeout: .seconds(1)) }
            try ctx.checkEqual(faults.map(\.groupID), [1, 2, 3], "groups in order")
            try ctx.checkEqual(Set(faults.map(\.cookie)).count, faults.count, "distinct cookies")
            let all = faults.flatMap { pageResponseBytes(cookie: $0.cookie, code: 0) }
            try ctx.checkEqual(rawWrite(q.queue, all), "\(faults.count * response) bytes", "one write of every response")
        },
        nestCase("fault-queue.auto-response", "when a device leaves a HWPT with a fault queue, the kernel answers its outstanding faults (eventq.c:19): a fault read but unanswered loses its cookie (response EINVAL) and a fault not yet read is dropped from the queue", since: "6.11", .parentOnly) { ctx, rig in
            var hwpt = HWPTID(rawValue: 0)
            let q = try attachIOPF(ctx, rig, hwpt: &hwpt)
            try trigger(ctx, rig, group: 2)
            try trigger(ctx, rig, group: 3)
            let f = try readOne(ctx, q)
            try ctx.checkEqual(f.groupID, 2, "first group")
            try ctx.step("replace the device back onto the IOAS") { try rig.test.mockDomainReplace(rig.stdev, with: rig.ioas) }
            try ctx.checkEqual(rawWrite(q.queue, pageResponseBytes(cookie: f.cookie, code: 0)), "EINVAL", "response to the read fault")
            try ctx.checkEqual(rawRead(q.queue, count: record).result, "0 bytes", "read: the unread fault is gone")
            try ctx.expectOK("DESTROY the IOPF HWPT") { try rig.iommufd.destroy(hwpt) }
        },
        nestCase("fault-queue.hwpt-holds", "a HWPT allocated with a fault queue holds it: with the fd closed, DESTROY of the fault object fails EBUSY until the HWPT is destroyed", since: "6.11", .parentOnly) { ctx, rig in
            var hwpt = HWPTID(rawValue: 0)
            let q = try attachIOPF(ctx, rig, hwpt: &hwpt)
            try ctx.step("replace the device back onto the IOAS") { try rig.test.mockDomainReplace(rig.stdev, with: rig.ioas) }
            try ctx.checkEqual(q.queue.close(), 0, "close the fault fd")
            try ctx.expectErrno(.resourceBusy, "DESTROY the fault object") { try rig.iommufd.destroy(q.id) }
            try ctx.step("DESTROY the HWPT") { try rig.iommufd.destroy(hwpt) }
            try ctx.expectOK("DESTROY the fault object") { try rig.iommufd.destroy(q.id) }
        },
        nestCase("fault-queue.viommu-nested", "a nested HWPT on a vIOMMU takes a fault queue: FAULT_ID_VALID with an id that is no fault queue fails ENOENT, with an undefined flag EOPNOTSUPP; the device attaches once it has a vDEVICE and its faults reach the queue", since: "6.13") { ctx, rig in
            let q = try ctx.step("FAULT_QUEUE_ALLOC") { try rig.iommufd.allocFaultQueue() }
            let v = rig.fixtureVIOMMU.rawValue, dev = rig.device.rawValue, data = NestRig.nestedData.bytes
            try ctx.expectErrno(.noSuchFileOrDirectory, "fault_id U32_MAX") {
                try rig.fd.raw.allocHWPT(device: dev, pt: v, flags: HWPTCases.faultValid, dataType: VIOMMUCases.selftestType, data: data, faultID: .max)
            }
            try ctx.expectErrno(.notSupported, "FAULT_ID_VALID | 1 << 31") {
                try rig.fd.raw.allocHWPT(device: dev, pt: v, flags: HWPTCases.faultValid | 1 << 31, dataType: VIOMMUCases.selftestType, data: data, faultID: q.id.rawValue)
            }
            let hwpt = try ctx.expectOK("nested on the vIOMMU with the fault queue") {
                try rig.iommufd.allocNestedHWPT(device: rig.device, parent: .viommu(rig.fixtureVIOMMU), data: NestRig.nestedData, fault: q.id).release()
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "attach without a vDEVICE") {
                try rig.test.mockDomainReplace(rig.stdev, with: hwpt)
            }
            try ctx.step("VDEVICE_ALLOC 0x99, attach") {
                _ = try rig.iommufd.allocVDevice(viommu: rig.fixtureVIOMMU, device: rig.device, virtID: 0x99).release()
                try rig.test.mockDomainReplace(rig.stdev, with: hwpt)
            }
            try ctx.expectErrno(.resourceBusy, "DESTROY the attached IOPF HWPT") { try rig.iommufd.destroy(hwpt) }
            try trigger(ctx, rig)
            let f = try readOne(ctx, q)
            try ctx.checkEqual([f.device.rawValue, f.groupID], [rig.device.rawValue, 2], "dev_id, grpid")
            try ctx.expectOK("respond") { try q.respond(cookie: f.cookie) }
            try ctx.step("replace back onto the IOAS") { try rig.test.mockDomainReplace(rig.stdev, with: rig.ioas) }
            try ctx.expectOK("DESTROY the IOPF HWPT") { try rig.iommufd.destroy(hwpt) }
            try closeAndDestroy(ctx, q, "close the fault fd, DESTROY the fault queue")
        },
    ]
}
