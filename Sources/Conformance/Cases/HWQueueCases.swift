// IOMMU_HW_QUEUE_ALLOC (6.17+) on the mock vIOMMU, as 7.3's viommu.c
// (iommufd_hw_queue_alloc_ioctl, iommufd_hw_queue_alloc_phys), io_pagetable.c and
// selftest.c (mock_hw_queue_init_phys) answer it (the kernel's hw_queue selftest).
// A queue pins the nesting parent's IOVA range through an internal access, so
// IOAS_UNMAP of it fails while the queue lives.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

enum HWQueueCases {
    static var all: [ConformanceCase] { cases }

    /// MOCK_APERTURE_START: the first IOVA of a 7.3 mock domain (iommufd_test.h).
    static let base = UInt64(MOCK_APERTURE_START)
    static let page = MS.page

    /// Maps buffer pages `pages` (one IOAS_MAP each, fixed IOVA base + i * PAGE_SIZE).
    static func mapPages(_ ctx: CaseContext, _ rig: NestRig, _ pages: Range<Int>) throws {
        try ctx.step("IOAS_MAP pages \(pages) at MOCK_APERTURE_START") {
            for i in pages {
                try rig.fd.raw.map(ioas: rig.ioas.rawValue, userVA: rig.buffer.at(i * Int(page)), length: page, iova: base + UInt64(i) * page)
            }
        }
    }

    static func queue(_ rig: NestRig, index: UInt32, iova: UInt64 = base, length: UInt64 = MS.page,
                      type: HWQueueType = .selftest, viommu: VIOMMUID? = nil) throws(IOMMUFDError) -> HWQueueID {
        try rig.iommufd.allocHWQueue(viommu: viommu ?? rig.fixtureVIOMMU, type: type, index: index,
                                     nestingParentIOVA: iova, length: length).release()
    }

    static func raw(_ rig: NestRig, flags: UInt32 = 0, iova: UInt64, length: UInt64) throws(IOMMUFDError) {
        try sendRaw(iommu_hw_queue_alloc.self, .hwQueueAlloc, on: rig.fd,
                    u32: [(\.flags, flags), (\.viommu_id, rig.fixtureVIOMMU.rawValue), (\.type, UInt32(IOMMU_HW_QUEUE_TYPE_SELFTEST))],
                    u64: [(\.nesting_parent_iova, iova), (\.length, length)])
    }

    static let cases: [ConformanceCase] = [
        nestCase("hw-queue.alloc", "HW_QUEUE_ALLOC of SELFTEST queue 0 over a mapped page works; the same index again fails EEXIST; queue 1 may sit at an unaligned IOVA inside a page; queue 0 cannot be destroyed while queue 1 depends on it (EBUSY), nor the vIOMMU while a queue lives; destroying 1 then 0 works", since: "6.17") { ctx, rig in
            try mapPages(ctx, rig, 0..<1)
            let q0 = try ctx.expectOK("queue 0 at MOCK_APERTURE_START, one page") { try queue(rig, index: 0) }
            try ctx.check(q0.rawValue != 0, "queue id 0")
            try ctx.expectErrno(.fileExists, "queue 0 again") { _ = try queue(rig, index: 0) }
            let q1 = try ctx.expectOK("queue 1 at +PAGE_SIZE/2, PAGE_SIZE/2 long") {
                try queue(rig, index: 1, iova: base + page / 2, length: page / 2)
            }
            try ctx.expectErrno(.resourceBusy, "DESTROY queue 0 (queue 1 depends on it)") { try rig.iommufd.destroy(q0) }
            try ctx.step("DESTROY the nested HWPT") { try rig.iommufd.destroy(rig.fixtureNested) }
            try ctx.expectErrno(.resourceBusy, "DESTROY the vIOMMU (queues hold it)") {
                try rig.iommufd.destroy(rig.fixtureVIOMMU)
            }
            try ctx.expectOK("DESTROY queue 1") { try rig.iommufd.destroy(q1) }
            try ctx.expectOK("DESTROY queue 0") { try rig.iommufd.destroy(q0) }
            try ctx.expectOK("DESTROY the vIOMMU") { try rig.iommufd.destroy(rig.fixtureVIOMMU) }
        },
        nestCase("hw-queue.alloc.bad-args", "HW_QUEUE_ALLOC: type DEFAULT or any flag fails EOPNOTSUPP (viommu.c:385), a type the driver does not size EOPNOTSUPP; length 0 EINVAL; an IOVA range that wraps EOVERFLOW (viommu.c:389); a viommu_id that is no vIOMMU ENOENT", since: "6.17") { ctx, rig in
            try mapPages(ctx, rig, 0..<1)
            try ctx.expectErrno(.notSupported, "type DEFAULT") { _ = try queue(rig, index: 0, type: .default) }
            try ctx.expectErrno(.notSupported, "type 0xdead") { _ = try queue(rig, index: 0, type: HWQueueType(rawValue: 0xdead)) }
            try ctx.expectErrno(.notSupported, "flags 1 (raw)") { try raw(rig, flags: 1, iova: base, length: page) }
            try ctx.expectErrno(.invalidArgument, "length 0 (raw)") { try raw(rig, iova: base, length: 0) }
            try ctx.expectErrno(.overflow, "iova ~0, PAGE_SIZE long (raw)") { try raw(rig, iova: .max, length: page) }
            for (what, id) in [("viommu_id 0", UInt32(0)), ("viommu_id = the parent HWPT", rig.parent.rawValue)] {
                try ctx.expectErrno(.noSuchFileOrDirectory, what) {
                    _ = try queue(rig, index: 0, viommu: VIOMMUID(rawValue: id))
                }
            }
        },
        nestCase("hw-queue.alloc.unmapped", "a HW queue must lie in memory mapped in the nesting parent's IOAS: an unmapped IOVA, or a range running past the mapping, fails ENOENT (iommufd_access_pin_pages)", since: "6.17") { ctx, rig in
            try ctx.expectErrno(.noSuchFileOrDirectory, "queue 0 at an unmapped IOVA") { _ = try queue(rig, index: 0) }
            try mapPages(ctx, rig, 0..<1)
            try ctx.expectErrno(.noSuchFileOrDirectory, "queue 0 over the mapped page and the unmapped next one") {
                _ = try queue(rig, index: 0, length: 2 * page)
            }
            try ctx.expectOK("queue 0 over the mapped page") { _ = try queue(rig, index: 0) }
        },
        nestCase("hw-queue.alloc.index", "mock HW queues are allocated in index order: queue 1 before queue 0 fails EIO, an index of IOMMU_TEST_HW_QUEUE_MAX or more EINVAL (selftest.c mock_hw_queue_init_phys)", since: "6.17") { ctx, rig in
            try mapPages(ctx, rig, 0..<1)
            try ctx.expectErrno(.ioError, "queue 1 first") { _ = try queue(rig, index: 1) }
            try ctx.expectErrno(.invalidArgument, "queue IOMMU_TEST_HW_QUEUE_MAX") {
                _ = try queue(rig, index: UInt32(IOMMU_TEST_HW_QUEUE_MAX))
            }
            try ctx.step("queue 0") { _ = try queue(rig, index: 0) }
            try ctx.expectOK("queue 1 after queue 0") { _ = try queue(rig, index: 1) }
        },
        nestCase("hw-queue.pin", "a HW queue pins its range: IOAS_UNMAP of the queue's page fails EBUSY (io_pagetable.c:773, area->num_locks), a neighbouring mapping unmaps normally, and after DESTROY of the queue the page unmaps", since: "6.17") { ctx, rig in
            try mapPages(ctx, rig, 0..<2)
            let q = try ctx.step("queue 0 on page 0") { try queue(rig, index: 0) }
            try ctx.expectErrno(.resourceBusy, "IOAS_UNMAP page 0") {
                try rig.fd.raw.unmap(ioas: rig.ioas.rawValue, iova: base, length: page)
            }
            try ctx.expectErrno(.resourceBusy, "IOAS_UNMAP of everything") {
                try rig.fd.raw.unmap(ioas: rig.ioas.rawValue, iova: 0, length: .max)
            }
            let unmapped = try ctx.expectOK("IOAS_UNMAP page 1") {
                try rig.fd.raw.unmap(ioas: rig.ioas.rawValue, iova: base + page, length: page)
            }
            try ctx.checkEqual(unmapped, page, "bytes unmapped")
            try ctx.step("DESTROY the queue") { try rig.iommufd.destroy(q) }
            try ctx.expectOK("IOAS_UNMAP page 0 after DESTROY") {
                try rig.fd.raw.unmap(ioas: rig.ioas.rawValue, iova: base, length: page)
            }
        },
        nestCase("hw-queue.close-unpins", "closing the iommufd with live HW queues destroys them and unpins their pages (MD_CHECK_REFS 0 after reopen)", since: "6.17") { ctx, rig in
            try mapPages(ctx, rig, 0..<1)
            try ctx.step("queues 0 and 1") {
                _ = try queue(rig, index: 0)
                _ = try queue(rig, index: 1, iova: base + page / 2, length: page / 2)
            }
            try ctx.expectErrno(.resourceBusy, "IOAS_UNMAP while pinned") {
                try rig.fd.raw.unmap(ioas: rig.ioas.rawValue, iova: base, length: page)
            }
        },
    ]
}
