// IOMMU_VEVENTQ_ALLOC (6.15+) and vEVENT delivery through IOMMU_TEST_OP_TRIGGER_VEVENT,
// read from the vEVENTQ fd, as 7.3's eventq.c, driver.c (iommufd_viommu_report_event)
// and iommufd_private.h (iommufd_vevent_handler) answer them (the kernel's vdevice_alloc
// selftest).
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

enum VEventQueueCases {
    static var all: [ConformanceCase] { alloc + delivery }

    /// eventq.c:504 VEVENTQ_MAX_DEPTH.
    static let maxDepth: UInt32 = 1 << 19
    static let header = MemoryLayout<iommufd_vevent_header>.size
    static let record = header + MemoryLayout<iommu_viommu_event_selftest>.size

    static func alloc(_ ctx: CaseContext, _ rig: NestRig, depth: UInt32, type: VEventQueueType = .selftest) throws -> VEventQueue {
        try ctx.step("VEVENTQ_ALLOC depth \(depth)") {
            try rig.iommufd.allocVEventQueue(viommu: rig.fixtureVIOMMU, type: type, depth: depth)
        }
    }

    /// TRIGGER_VEVENT `n` times.
    static func trigger(_ ctx: CaseContext, _ rig: NestRig, _ n: Int) throws {
        try ctx.step("TRIGGER_VEVENT x\(n)") {
            for _ in 0..<n { try rig.test.triggerVEvent(rig.device) }
        }
    }

    /// The records now queued, as (sequence, lost flag, payload words).
    static func read(_ ctx: CaseContext, _ q: inout VEventQueue) throws -> [(UInt32, Bool, [UInt32])] {
        var events: [VEvent] = []
        try ctx.step("read the vEVENTQ") { events = try q.readEvents(max: 16, timeout: .seconds(1)) }
        return events.map { ($0.sequence, $0.lostEvents, words32($0.payload)) }
    }

    static func checkRecords(_ ctx: CaseContext, _ got: [(UInt32, Bool, [UInt32])], _ expected: [(UInt32, Bool, [UInt32])], _ what: String) throws {
        let show = { (r: [(UInt32, Bool, [UInt32])]) in r.map { "seq \($0.0)\($0.1 ? " LOST" : "") \($0.2.map { "0x" + String($0, radix: 16) })" } }
        try ctx.checkEqual(show(got), show(expected), what)
    }

    // MARK: - VEVENTQ_ALLOC

    static let alloc: [ConformanceCase] = [
        nestCase("veventq.alloc", "VEVENTQ_ALLOC of the SELFTEST type on a vIOMMU returns an object and a readable fd (empty: read returns 0 bytes, no POLLIN); a second queue of the same type on that vIOMMU fails EEXIST (eventq.c:526)", since: "6.15") { ctx, rig in
            let q = try ctx.expectOK("VEVENTQ_ALLOC depth 2") {
                try rig.iommufd.allocVEventQueue(viommu: rig.fixtureVIOMMU, type: .selftest, depth: 2)
            }
            try ctx.check(q.id.rawValue != 0 && q.queue.rawValue != nil, "no id or fd")
            try ctx.expectErrno(.fileExists, "a second SELFTEST queue") {
                _ = try rig.iommufd.allocVEventQueue(viommu: rig.fixtureVIOMMU, type: .selftest, depth: 2)
            }
            try ctx.checkEqual(rawRead(q.queue, count: record).result, "0 bytes", "read of an empty queue")
            try ctx.checkEqual(pollEvents(q.queue, ms: 0) & Int16(POLLIN), 0, "POLLIN on an empty queue")
        },
        nestCase("veventq.alloc.bad-depth", "VEVENTQ_ALLOC: veventq_depth 0 or above 1 << 19 fails EINVAL (eventq.c:517); 1 << 19 is accepted", since: "6.15") { ctx, rig in
            try ctx.expectErrno(.invalidArgument, "depth 0 (raw)") {
                try sendRaw(iommu_veventq_alloc.self, .veventqAlloc, on: rig.fd,
                            u32: [(\.viommu_id, rig.fixtureVIOMMU.rawValue), (\.type, UInt32(IOMMU_VEVENTQ_TYPE_SELFTEST))])
            }
            try ctx.expectErrno(.invalidArgument, "depth (1 << 19) + 1") {
                _ = try rig.iommufd.allocVEventQueue(viommu: rig.fixtureVIOMMU, type: .selftest, depth: maxDepth + 1)
            }
            let q = try ctx.expectOK("depth 1 << 19") {
                try rig.iommufd.allocVEventQueue(viommu: rig.fixtureVIOMMU, type: .selftest, depth: maxDepth)
            }
            try closeAndDestroy(ctx, q, "close and DESTROY it")
        },
        nestCase("veventq.alloc.bad-args", "VEVENTQ_ALLOC: type DEFAULT, any flag or a non-zero __reserved fail EOPNOTSUPP (eventq.c:514); a viommu_id that is no vIOMMU (0, a HWPT) fails ENOENT", since: "6.15") { ctx, rig in
            let v = rig.fixtureVIOMMU.rawValue, selftest = UInt32(IOMMU_VEVENTQ_TYPE_SELFTEST)
            try ctx.expectErrno(.notSupported, "type DEFAULT") {
                _ = try rig.iommufd.allocVEventQueue(viommu: rig.fixtureVIOMMU, type: .default, depth: 2, eventSize: 4)
            }
            try ctx.expectErrno(.notSupported, "flags 1 (raw)") {
                try sendRaw(iommu_veventq_alloc.self, .veventqAlloc, on: rig.fd,
                            u32: [(\.flags, 1), (\.viommu_id, v), (\.type, selftest), (\.veventq_depth, 2)])
            }
            try ctx.expectErrno(.notSupported, "__reserved 1 (raw)") {
                try sendRaw(iommu_veventq_alloc.self, .veventqAlloc, on: rig.fd,
                            u32: [(\.__reserved, 1), (\.viommu_id, v), (\.type, selftest), (\.veventq_depth, 2)])
            }
            for (what, id) in [("viommu_id 0", UInt32(0)), ("viommu_id = the parent HWPT", rig.parent.rawValue)] {
                try ctx.expectErrno(.noSuchFileOrDirectory, what) {
                    _ = try rig.iommufd.allocVEventQueue(viommu: VIOMMUID(rawValue: id), type: .selftest, depth: 2)
                }
            }
        },
        nestCase("veventq.alloc.type-unchecked", "VEVENTQ_ALLOC does not check the type against the vIOMMU's driver: an ARM_SMMUV3 queue on the mock vIOMMU is accepted, one per type (a second fails EEXIST), next to a SELFTEST queue; SELFTEST vEVENTs still go only to the SELFTEST queue", since: "6.15") { ctx, rig in
            var arm = try ctx.expectOK("ARM_SMMUV3 queue on the mock vIOMMU") {
                try rig.iommufd.allocVEventQueue(viommu: rig.fixtureVIOMMU, type: .armSMMUv3, depth: 2)
            }
            try ctx.expectErrno(.fileExists, "a second ARM_SMMUV3 queue") {
                _ = try rig.iommufd.allocVEventQueue(viommu: rig.fixtureVIOMMU, type: .armSMMUv3, depth: 2)
            }
            var q = try alloc(ctx, rig, depth: 2)
            _ = try VIOMMUCases.attachNested(ctx, rig)
            try trigger(ctx, rig, 1)
            try checkRecords(ctx, try read(ctx, &q), [(0, false, [0x99])], "SELFTEST queue")
            try checkRecords(ctx, try read(ctx, &arm), [], "ARM_SMMUV3 queue")
        },
        nestCase("veventq.destroy-order", "a vEVENTQ cannot be destroyed while its fd is open (EBUSY: the fd holds the object); after close it can; the vIOMMU is busy (EBUSY) while a vEVENTQ is on it; with no SELFTEST queue left TRIGGER_VEVENT fails EOPNOTSUPP (driver.c:147)", since: "6.15") { ctx, rig in
            let q = try alloc(ctx, rig, depth: 2)
            _ = try VIOMMUCases.attachNested(ctx, rig)
            try trigger(ctx, rig, 1)
            try ctx.expectErrno(.resourceBusy, "DESTROY with the fd open") { try rig.iommufd.destroy(q.id) }
            try ctx.step("replace back onto the IOAS") { try rig.test.mockDomainReplace(rig.stdev, with: rig.ioas) }
            try ctx.step("DESTROY the nested HWPT") { try rig.iommufd.destroy(rig.fixtureNested) }
            try ctx.expectErrno(.resourceBusy, "DESTROY the vIOMMU (a vDEVICE and the vEVENTQ hold it)") {
                try rig.iommufd.destroy(rig.fixtureVIOMMU)
            }
            try closeAndDestroy(ctx, q, "close the fd (an event still queued), then DESTROY")
            try ctx.step("replace onto a new nested HWPT") {
                let n = try rig.iommufd.allocNestedHWPT(device: rig.device, parent: .viommu(rig.fixtureVIOMMU), data: NestRig.nestedData).release()
                try rig.test.mockDomainReplace(rig.stdev, with: n)
            }
            try ctx.expectErrno(.notSupported, "TRIGGER_VEVENT with no vEVENTQ") { try rig.test.triggerVEvent(rig.device) }
        },
    ]

    // MARK: - Delivery

    static let delivery: [ConformanceCase] = [
        nestCase("veventq.trigger-read", "each vEVENT reads as an 8-byte header (flags 0, sequence from 0 up by one) and the event (virt_id of the device's vDEVICE); a read below the header size, or one that fits the header but not the event, fails EINVAL (eventq.c:324, 343); a read takes only whole events", since: "6.15") { ctx, rig in
            var q = try alloc(ctx, rig, depth: 8)
            _ = try VIOMMUCases.attachNested(ctx, rig)
            try ctx.checkEqual(rawRead(q.queue, count: 0).result, "EINVAL", "read of 0 bytes (empty)")
            try ctx.checkEqual(rawRead(q.queue, count: header - 1).result, "EINVAL", "read of 7 bytes (empty)")
            try trigger(ctx, rig, 1)
            try ctx.check(pollEvents(q.queue) & Int16(POLLIN) != 0, "no POLLIN with an event queued")
            try ctx.checkEqual(rawRead(q.queue, count: 0).result, "EINVAL", "read of 0 bytes")
            try ctx.checkEqual(rawRead(q.queue, count: header).result, "EINVAL", "read of the header size only")
            let one = rawRead(q.queue, count: record)
            try ctx.checkEqual(one.result, "\(record) bytes", "read of one record")
            try ctx.checkEqual(words32(one.bytes), [0, 0, 0x99], "flags, sequence, virt_id")
            try trigger(ctx, rig, 2)
            let partial = rawRead(q.queue, count: record + header)
            try ctx.checkEqual(partial.result, "\(record) bytes", "read of a record and a half")
            try ctx.checkEqual(words32(partial.bytes), [0, 1, 0x99], "first of two")
            try checkRecords(ctx, try read(ctx, &q), [(2, false, [0x99])], "the second stayed queued")
            try ctx.checkEqual(rawRead(q.queue, count: record).result, "0 bytes", "read of the drained queue")
        },
        nestCase("veventq.virt-id", "a vEVENT carries the virt_id of the device's current vDEVICE: after replacing the vDEVICE with another virt_id the next event reports the new one", since: "6.15") { ctx, rig in
            var q = try alloc(ctx, rig, depth: 4)
            let vdev = try VIOMMUCases.attachNested(ctx, rig, virtID: 0x99)
            try trigger(ctx, rig, 1)
            try checkRecords(ctx, try read(ctx, &q), [(0, false, [0x99])], "with virt_id 0x99")
            try ctx.step("replace onto the IOAS, DESTROY the vDEVICE") {
                try rig.test.mockDomainReplace(rig.stdev, with: rig.ioas)
                try rig.iommufd.destroy(vdev)
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "TRIGGER_VEVENT while not on a vIOMMU (selftest.c: no mdev->viommu)") {
                try rig.test.triggerVEvent(rig.device)
            }
            _ = try VIOMMUCases.attachNested(ctx, rig, virtID: 0x88)
            try trigger(ctx, rig, 1)
            try checkRecords(ctx, try read(ctx, &q), [(1, false, [0x88])], "with virt_id 0x88")
        },
        nestCase("veventq.trigger-errors", "TRIGGER_VEVENT fails ENOENT for a dev_id that is no device or a device not on a vIOMMU-based nested HWPT, and EOPNOTSUPP when the vIOMMU has no SELFTEST vEVENTQ", since: "6.15") { ctx, rig in
            try ctx.expectErrno(.noSuchFileOrDirectory, "dev_id 0") { try rig.test.triggerVEvent(IOMMUFDDeviceID(rawValue: 0)) }
            try ctx.expectErrno(.noSuchFileOrDirectory, "device on its IOAS") { try rig.test.triggerVEvent(rig.device) }
            _ = try VIOMMUCases.attachNested(ctx, rig)
            try ctx.expectErrno(.notSupported, "on the nested HWPT, no vEVENTQ") { try rig.test.triggerVEvent(rig.device) }
        },
        nestCase("veventq.overflow", "a full vEVENTQ drops events: TRIGGER_VEVENT still succeeds, and after the queued events one header-only record with IOMMU_VEVENTQ_FLAG_LOST_EVENTS carries the sequence of the last dropped event; once read, delivery resumes with the next sequence", since: "6.15") { ctx, rig in
            var q = try alloc(ctx, rig, depth: 2)
            _ = try VIOMMUCases.attachNested(ctx, rig, virtID: 0x88)
            try trigger(ctx, rig, 3)
            try checkRecords(ctx, try read(ctx, &q), [(0, false, [0x88]), (1, false, [0x88]), (2, true, [])], "3 events into depth 2")
            try trigger(ctx, rig, 1)
            try checkRecords(ctx, try read(ctx, &q), [(3, false, [0x88])], "after the overflow was read")
            try trigger(ctx, rig, 5)
            try checkRecords(ctx, try read(ctx, &q), [(4, false, [0x88]), (5, false, [0x88]), (8, true, [])], "5 events into depth 2")
            let lost = rawRead(q.queue, count: header)
            try ctx.checkEqual(lost.result, "0 bytes", "nothing left")
            try trigger(ctx, rig, 3)
            let head = rawRead(q.queue, count: 2 * record + header)
            try ctx.checkEqual(head.result, "\(2 * record + header) bytes", "two events and the lost-events header in one read")
            try ctx.checkEqual(words32(head.bytes), [0, 9, 0x88, 0, 10, 0x88, UInt32(IOMMU_VEVENTQ_FLAG_LOST_EVENTS.rawValue), 11], "raw records")
        },
    ]
}
