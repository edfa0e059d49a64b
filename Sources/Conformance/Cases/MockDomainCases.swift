// The 6.12 kernel selftest fixtures `iommufd_ioas` and `iommufd_mock_domain`
// (tools/testing/selftests/iommu/iommufd.c) ported to our API, with expectations for
// what 6.12.117's kernel does (the shipped selftest uses a PASID mock device and an
// input-type GET_HW_INFO that 6.12 lacks; those parts are left out). Every case ends
// with the selftest teardown: close, reopen, MD_CHECK_REFS 0 over the buffers.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

enum MockDomainCases {
    static var all: [ConformanceCase] { ioasCases + mockDomainCases }

    typealias Body = @Sendable (CaseContext, Fx, IOASVariant) throws -> Void

    static func ioas(_ name: String, _ rule: String, since: KernelVersion = "6.2",
                     variants: [IOASVariant] = IOASVariant.allCases, hugetlb: Bool = false, needsMock: Bool = false,
                     _ body: @escaping Body) -> [ConformanceCase] {
        variants.map { v in
            ConformanceCase("mock.ioas.\(name)", rule: rule, since: since,
                            requires: hugetlb ? [.iommufd, .testModule, .hugetlb] : [.iommufd, .testModule],
                            mode: v.rawValue) { ctx in
                try withIOASFixture(ctx, v, needsMock: needsMock) { fx in try body(ctx, fx, v) }
            }
        }
    }

    /// check_access_rw, with a thinned sweep (every 7th IOVA, every 5th length) to fit TCG.
    static func checkAccessRW(_ ctx: CaseContext, _ fx: Fx, access: AccessID, iova: UInt64,
                              flags: MockAccessRWFlags = []) throws {
        let buf = fx.buffer
        buf.fill(seed: UInt32(truncatingIfNeeded: iova) &+ flags.rawValue)
        let tmp = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        defer { tmp.deallocate() }
        var checked = 0
        var a = iova + MS.page - 50
        while a < iova + MS.page + 50 {
            var len = 1
            while len < 64 {
                let slice = UnsafeMutableRawBufferPointer(rebasing: tmp[0..<len])
                try fx.test.accessRWResult(access, iova: a, buffer: slice, flags: flags).orFail("ACCESS_RW read iova 0x\(String(a, radix: 16)) len \(len)")
                if memcmp(buf.base + Int(a - iova), tmp.baseAddress!, len) != 0 {
                    throw CaseFailure("ACCESS_RW read at 0x\(String(a, radix: 16)) len \(len): data differs from the buffer")
                }
                for i in 0..<len { tmp[i] = UInt8.random(in: 0...255) }
                try fx.test.accessRWResult(access, iova: a, buffer: slice, flags: flags.union(.write)).orFail("ACCESS_RW write")
                if memcmp(buf.base + Int(a - iova), tmp.baseAddress!, len) != 0 {
                    throw CaseFailure("ACCESS_RW write at 0x\(String(a, radix: 16)) len \(len): buffer not updated")
                }
                checked += 1
                len += 5
            }
            a += 7
        }
        // Multi-page read.
        let big = UnsafeMutableRawBufferPointer.allocate(byteCount: buf.count, alignment: 8)
        defer { big.deallocate() }
        try ctx.step("ACCESS_RW multi-page read") { try fx.test.accessRW(access, iova: iova, buffer: big, flags: flags) }
        try ctx.check(memcmp(buf.base, big.baseAddress!, buf.count) == 0, "multi-page ACCESS_RW read differs")
        try ctx.check(checked > 0, "no ACCESS_RW done")
    }

    static func checkMock(_ ctx: CaseContext, _ fx: Fx, hwpts: [UInt32], va: UInt64, iova: UInt64, length: UInt64) throws {
        for h in hwpts {
            try ctx.step("MD_CHECK_MAP hwpt \(h) iova 0x\(String(iova, radix: 16)) len \(length)") {
                try fx.test.checkMap(HWPTID(rawValue: h), iova: iova, length: length, userVA: va)
            }
        }
    }

    // MARK: iommufd_ioas

    static var ioasCases: [ConformanceCase] {
        var out: [ConformanceCase] = []
        out += ioas("ioas-auto-destroy", "an IOAS (with its mock domains) is freed by closing the fd") { ctx, fx, _ in
            try ctx.check(fx.ioas != 0, "IOAS id 0")
        }
        out += ioas("ioas-destroy", "an IOAS with a device attached cannot be destroyed (EBUSY); without one it can") { ctx, fx, _ in
            if fx.hasDomain {
                try ctx.expectErrno(.resourceBusy, "destroy") { try fx.fd.raw.destroy(fx.ioas) }
            } else {
                try ctx.step("destroy") { try fx.fd.raw.destroy(fx.ioas) }
            }
        }
        out += ioas("alloc-hwpt-nested", "nested HWPT allocation, invalidation and replacement on a mock device (6.12 semantics)",
                    since: "6.11") { ctx, fx, _ in
            let selftest = UInt32(IOMMU_HWPT_DATA_SELFTEST)
            let data = HWPTCases.selftestData
            guard fx.hasDomain else {
                try ctx.expectErrno(.noSuchFileOrDirectory, "HWPT_ALLOC dev 0") { try fx.fd.raw.allocHWPT(device: 0, pt: fx.ioas) }
                try ctx.expectErrno(.noSuchFileOrDirectory, "nested, dev 0") {
                    try fx.fd.raw.allocHWPT(device: 0, pt: 0, dataType: selftest, data: data)
                }
                try ctx.expectErrno(.noSuchFileOrDirectory, "MOCK_DOMAIN_REPLACE stdev 0") {
                    try fx.test.mockDomainReplace(MockStdevID(rawValue: 0), with: HWPTID(rawValue: 0))
                }
                return
            }
            let dev = fx.device
            try ctx.expectErrno(.noSuchFileOrDirectory, "dev = IOAS") { try fx.fd.raw.allocHWPT(device: fx.ioas, pt: dev) }
            try ctx.expectErrno(.invalidArgument, "pt = device") { try fx.fd.raw.allocHWPT(device: dev, pt: dev) }
            let parent = try ctx.step("NEST_PARENT") { try fx.fd.raw.allocHWPT(device: dev, pt: fx.ioas, flags: HWPTCases.nestParent) }
            let notParent = try ctx.step("flags 0") { try fx.fd.raw.allocHWPT(device: dev, pt: fx.ioas) }
            try ctx.expectErrno(.invalidArgument, "nested on non-parent") {
                try fx.fd.raw.allocHWPT(device: dev, pt: notParent, dataType: selftest, data: data)
            }
            let fa = try ctx.step("FAULT_QUEUE_ALLOC") { try fx.fd.raw.allocFaultQueue() }
            defer { close(fa.fd) }
            let n0 = try ctx.step("nested #0") { try fx.fd.raw.allocHWPT(device: dev, pt: parent, dataType: selftest, data: data) }
            let n1 = try ctx.step("nested #1") { try fx.fd.raw.allocHWPT(device: dev, pt: parent, dataType: selftest, data: data) }
            let iopf = try ctx.step("nested with fault queue") {
                try fx.fd.raw.allocHWPT(device: dev, pt: parent, flags: HWPTCases.faultValid, dataType: selftest, data: data, faultID: fa.id)
            }
            try ctx.expectErrno(.resourceBusy, "destroy parent in use") { try fx.fd.raw.destroy(parent) }
            let stdev = MockStdevID(rawValue: fx.stdev)
            try ctx.step("replace onto nested #0") { try fx.test.mockDomainReplace(stdev, with: HWPTID(rawValue: n0)) }
            try ctx.expectErrno(.resourceBusy, "destroy attached nested #0") { try fx.fd.raw.destroy(n0) }
            try ctx.step("replace onto nested #1") { try fx.test.mockDomainReplace(stdev, with: HWPTID(rawValue: n1)) }
            try ctx.expectErrno(.resourceBusy, "destroy attached nested #1") { try fx.fd.raw.destroy(n1) }
            try ctx.step("destroy nested #0") { try fx.fd.raw.destroy(n0) }
            try ctx.step("replace onto the IOPF HWPT") { try fx.test.mockDomainReplace(stdev, with: HWPTID(rawValue: iopf)) }
            try ctx.expectErrno(.resourceBusy, "destroy attached IOPF HWPT") { try fx.fd.raw.destroy(iopf) }
            try ctx.step("TRIGGER_IOPF") {
                try fx.test.triggerIOPF(DeviceID(rawValue: dev), pasid: 0x1, groupID: 0x2, permissions: [.read, .write], address: 0xdeadbeaf)
            }
            var fault = iommu_hwpt_pgfault()
            let n = read(fa.fd, &fault, MemoryLayout<iommu_hwpt_pgfault>.size)
            try ctx.checkEqual(n, MemoryLayout<iommu_hwpt_pgfault>.size, "fault fd read size")
            try ctx.checkEqual([fault.dev_id, fault.pasid, fault.grpid], [dev, 1, 2], "fault dev/pasid/grpid")
            try ctx.checkEqual(fault.addr, 0xdeadbeaf, "fault address as triggered")
            var resp = iommu_hwpt_page_response(cookie: fault.cookie, code: 0)
            try ctx.checkEqual(write(fa.fd, &resp, MemoryLayout<iommu_hwpt_page_response>.size),
                               MemoryLayout<iommu_hwpt_page_response>.size, "page response write")
            try ctx.step("replace onto the parent") { try fx.test.mockDomainReplace(stdev, with: HWPTID(rawValue: parent)) }
            try ctx.step("destroy nested #1") { try fx.fd.raw.destroy(n1) }
            try ctx.step("destroy IOPF HWPT") { try fx.fd.raw.destroy(iopf) }
            try ctx.step("replace back onto the IOAS") { try fx.test.mockDomainReplace(stdev, with: fx.ioasID) }
            try ctx.step("destroy parent") { try fx.fd.raw.destroy(parent) }
            try ctx.step("destroy non-parent") { try fx.fd.raw.destroy(notParent) }
        }
        out += ioas("hwpt-attach", "a mock device attaches directly to an existing HWPT; with no HWPT, MOCK_DOMAIN on id 0 fails ENOENT", needsMock: true) { ctx, fx, _ in
            if fx.hasDomain {
                _ = try ctx.step("MOCK_DOMAIN on the HWPT") { try fx.test.mockDomain(HWPTID(rawValue: fx.hwpt)) }
            } else {
                try ctx.expectErrno(.noSuchFileOrDirectory, "MOCK_DOMAIN on 0") { try fx.test.mockDomain(HWPTID(rawValue: 0)) }
            }
        }
        out += ioas("ioas-area-destroy", "an area does not change whether the IOAS can be destroyed") { ctx, fx, _ in
            try ctx.step("map") { try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: MS.page, iova: fx.baseIOVA) }
            if fx.hasDomain {
                try ctx.expectErrno(.resourceBusy, "destroy") { try fx.fd.raw.destroy(fx.ioas) }
            } else {
                try ctx.step("destroy") { try fx.fd.raw.destroy(fx.ioas) }
            }
        }
        out += ioas("ioas-area-auto-destroy", "an IOAS with many areas is freed by closing the fd") { ctx, fx, _ in
            for i in 0..<10 {
                try ctx.step("map #\(i)") {
                    try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: MS.page, iova: fx.baseIOVA + UInt64(i) * MS.page)
                }
            }
        }
        out += ioas("get-hw-info", "GET_HW_INFO on the mock device (no, exact, larger, shorter buffer); ENOENT without a device", since: "6.6") { ctx, fx, _ in
            let bm = try needBuffer(Int(MS.page))
            guard fx.hasDomain else {
                try ctx.expectErrno(.noSuchFileOrDirectory, "dev 0, exact") { try fx.fd.raw.hwInfo(device: 0, data: bm.base, dataLength: 8) }
                try ctx.expectErrno(.noSuchFileOrDirectory, "dev 0, larger") { try fx.fd.raw.hwInfo(device: 0, data: bm.base, dataLength: 16) }
                return
            }
            for len in [UInt32(0), 8, 16, 4] {
                memset(bm.base, 0xAA, bm.count)
                let r = try ctx.step("data_len \(len)") {
                    try fx.fd.raw.hwInfo(device: fx.device, data: len == 0 ? nil : bm.base, dataLength: len)
                }
                try ctx.checkEqual(r.dataType, UInt32(IOMMU_HW_INFO_TYPE_SELFTEST), "type")
                try ctx.checkEqual(r.dataLength, 8, "data_len back")
                if len >= 8 {
                    try ctx.checkEqual(bm.base.load(fromByteOffset: 4, as: UInt32.self), UInt32(IOMMU_HW_INFO_SELFTEST_REGVAL), "test_reg")
                }
                if len == 16 { try ctx.checkEqual(bm.base.load(fromByteOffset: 8, as: UInt64.self), 0, "tail zeroed") }
                if len == 4 { try ctx.checkEqual(bm.base.load(fromByteOffset: 0, as: UInt32.self), 0, "flags filled") }
                try ctx.checkEqual(r.maxPASIDLog2, 0, "max_pasid_log2")
            }
        }
        out += ioas("area", "UNMAP of nothing ENOENT; split ENOENT; over-map EEXIST; unmap-all works, also when empty") { ctx, fx, _ in
            let p = MS.page, b = fx.baseIOVA, fd = fx.fd, ioas = fx.ioas, va = fx.buffer.va
            for i in 0..<10 {
                try ctx.expectErrno(.noSuchFileOrDirectory, "unmap empty #\(i)") { try fd.raw.unmap(ioas: ioas, iova: UInt64(i) * p, length: p) }
            }
            for i in 0..<10 { try ctx.step("map #\(i)") { try fd.raw.map(ioas: ioas, userVA: va, length: p, iova: b + UInt64(i) * p) } }
            for i in 0..<10 { try ctx.step("unmap #\(i)") { try fd.raw.unmap(ioas: ioas, iova: b + UInt64(i) * p, length: p) } }
            try ctx.step("map 2 pages at 16p") { try fd.raw.map(ioas: ioas, userVA: va, length: 2 * p, iova: b + 16 * p) }
            try ctx.expectErrno(.noSuchFileOrDirectory, "split 16p") { try fd.raw.unmap(ioas: ioas, iova: b + 16 * p, length: p) }
            try ctx.expectErrno(.noSuchFileOrDirectory, "split 17p") { try fd.raw.unmap(ioas: ioas, iova: b + 17 * p, length: p) }
            for (len, at) in [(2 * p, 16 * p), (p, 16 * p), (p, 17 * p), (2 * p, 15 * p), (3 * p, 15 * p)] {
                try ctx.expectErrno(.fileExists, "over-map \(len / p)p at \(at / p)p") {
                    try fd.raw.map(ioas: ioas, userVA: va, length: len, iova: b + at)
                }
            }
            try ctx.step("unmap all") { try fd.raw.unmap(ioas: ioas, iova: 0, length: .max) }
            try ctx.step("unmap all, empty") { try fd.raw.unmap(ioas: ioas, iova: 0, length: .max) }
        }
        out += ioas("unmap-fully-contained-areas", "UNMAP must cover whole areas; a covering range unmaps all of them") { ctx, fx, _ in
            let p = MS.page, fd = fx.fd, ioas = fx.ioas
            let b = fx.baseIOVA + 4 * p
            for i in 0..<4 {
                try ctx.step("map #\(i)") { try fd.raw.map(ioas: ioas, userVA: fx.buffer.va, length: 8 * p, iova: b + UInt64(i) * 16 * p) }
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "partial head") { try fd.raw.unmap(ioas: ioas, iova: b - 4 * p, length: 8 * p) }
            try ctx.expectErrno(.noSuchFileOrDirectory, "partial tail") {
                try fd.raw.unmap(ioas: ioas, iova: b + 3 * 16 * p + 8 * p - 4 * p, length: 8 * p)
            }
            let n = try ctx.step("covering") { try fd.raw.unmap(ioas: ioas, iova: b - 4 * p, length: 3 * 16 * p + 8 * p + 4 * p) }
            try ctx.checkEqual(n, 32 * p, "unmapped")
        }
        out += ioas("area-auto-iova", "auto IOVAs are aligned to the length's lowest bit, avoid reserved regions and stay in allowed ranges") { ctx, fx, _ in
            let p = MS.page, fd = fx.fd, ioas = fx.ioas, va = fx.buffer.va
            var iovas: [UInt64] = []
            for i in 0..<10 { iovas.append(try ctx.step("auto map #\(i)") { try fd.raw.map(ioas: ioas, userVA: va, length: p) }) }
            for (i, iova) in iovas.enumerated() { try ctx.step("unmap #\(i)") { try fd.raw.unmap(ioas: ioas, iova: iova, length: p) } }
            func lowBit(_ x: UInt64) -> UInt64 { x & (~x &+ 1) }
            func sweep(_ what: String, va: UInt64, check: (UInt64, UInt64) throws -> Void) throws {
                var got: [UInt64] = []
                for i in 1...10 {
                    let len = UInt64(i) * p
                    let iova = try ctx.step("\(what) \(i)p") { try fd.raw.map(ioas: ioas, userVA: va, length: len) }
                    try ctx.checkEqual(iova % lowBit(len), 0, "\(what) \(i)p alignment of 0x\(String(iova, radix: 16))")
                    try check(iova, len)
                    got.append(iova)
                }
                for (i, iova) in got.enumerated() {
                    try ctx.step("unmap \(what) #\(i)") { try fd.raw.unmap(ioas: ioas, iova: iova, length: UInt64(i + 1) * p) }
                }
            }
            try sweep("aligned", va: fx.hasDomain ? va : 1 << 31) { _, _ in }
            let rs = 4 * p, rl = 100 * p
            try ctx.step("ADD_RESERVED") { try fx.test.addReserved(fx.ioasID, start: rs, length: rl) }
            try sweep("around reserved", va: va) { iova, _ in
                try ctx.check(!(iova > rs && iova < rs + rl), "IOVA 0x\(String(iova, radix: 16)) inside the reserved region")
            }
            try ctx.expectErrno(.addressInUse, "allow over reserved") { try fd.raw.allowIOVAs(ioas: ioas, [IOVARange(start: p, last: 600 * p)]) }
            let lo = fx.hasDomain ? MS.apertureStart + p : 200 * p
            let hi = fx.hasDomain ? MS.apertureStart + 600 * p - 1 : 600 * p - 1
            try ctx.step("allow") { try fd.raw.allowIOVAs(ioas: ioas, [IOVARange(start: lo, last: hi)]) }
            try sweep("allowed", va: va) { iova, len in
                try ctx.check(iova >= lo && iova + len <= hi + 1, "IOVA 0x\(String(iova, radix: 16)) outside the allowed range")
            }
        }
        out += ioas("area-allowed", "reserved and allowed ranges may not intersect, in either order (EADDRINUSE)") { ctx, fx, _ in
            let p = MS.page, fd = fx.fd, ioas = fx.ioas, b = fx.baseIOVA
            try ctx.step("allow") { try fd.raw.allowIOVAs(ioas: ioas, [IOVARange(start: b, last: b + 600 * p)]) }
            try ctx.expectErrno(.addressInUse, "reserve inside allowed") { try fx.test.addReserved(fx.ioasID, start: b + p, length: p) }
            try ctx.step("clear allowed") { try fd.raw.allowIOVAs(ioas: ioas, []) }
            try ctx.step("reserve") { try fx.test.addReserved(fx.ioasID, start: b + p, length: p) }
            try ctx.expectErrno(.addressInUse, "allow over reserved") { try fd.raw.allowIOVAs(ioas: ioas, [IOVARange(start: b, last: b + 600 * p)]) }
        }
        out += ioas("copy-area", "COPY within one IOAS and between IOASes") { ctx, fx, _ in
            let p = MS.page, b = fx.baseIOVA
            try ctx.step("map") { try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: p, iova: b) }
            try ctx.step("copy inside") {
                try fx.fd.raw.copy(dst: fx.ioas, src: fx.ioas, srcIOVA: b, length: p, dstIOVA: b + p, flags: MS.write)
            }
            let dst = try ctx.step("IOAS_ALLOC") { try fx.fd.raw.allocIOAS() }
            try ctx.step("copy across") {
                try fx.fd.raw.copy(dst: dst, src: fx.ioas, srcIOVA: b, length: p, dstIOVA: 0, flags: MS.write)
            }
        }
        out += ioas("iova-ranges", "IOVA_RANGES: full range or aperture, EMSGSIZE with the count, reserved splits only without a domain") { ctx, fx, _ in
            let p = MS.page
            var out = RawIOVARangesReply()
            try ctx.step("IOVA_RANGES") { try fx.fd.raw.iovaRanges(ioas: fx.ioas, capacity: 16, reply: &out) }
            try ctx.checkEqual(out.count, 1, "num")
            if fx.hasDomain {
                try ctx.checkEqual([out.slots[0].start, out.slots[0].last, out.alignment], [MS.apertureStart, MS.apertureLast, MS.mockPage], "aperture")
            } else {
                try ctx.checkEqual([out.slots[0].start, out.slots[0].last, out.alignment], [0, UInt64(UInt.max), 1], "full range")
            }
            try ctx.expectErrno(.messageTooLong, "0 slots") { try fx.fd.raw.iovaRanges(ioas: fx.ioas, capacity: 0, reply: &out) }
            try ctx.checkEqual(out.count, 1, "num after EMSGSIZE")
            try ctx.step("ADD_RESERVED [p, 2p)") { try fx.test.addReserved(fx.ioasID, start: p, length: p) }
            try ctx.step("IOVA_RANGES") { try fx.fd.raw.iovaRanges(ioas: fx.ioas, capacity: 16, reply: &out) }
            if fx.hasDomain {
                try ctx.checkEqual(out.count, 1, "num")
                try ctx.checkEqual([out.slots[0].start, out.slots[0].last], [MS.apertureStart, MS.apertureLast], "aperture")
                try ctx.step("1 slot is enough") { try fx.fd.raw.iovaRanges(ioas: fx.ioas, capacity: 1, reply: &out) }
            } else {
                try ctx.checkEqual(out.count, 2, "num")
                try ctx.checkEqual([out.slots[0].start, out.slots[0].last, out.slots[1].start, out.slots[1].last], [0, p - 1, 2 * p, UInt64(UInt.max)], "ranges")
                try ctx.expectErrno(.messageTooLong, "1 slot") { try fx.fd.raw.iovaRanges(ioas: fx.ioas, capacity: 1, reply: &out) }
                try ctx.checkEqual(out.count, 2, "num after EMSGSIZE")
                try ctx.checkEqual([out.slots[0].start, out.slots[0].last], [0, p - 1], "first range")
            }
        }
        out += ioas("access-domain-destroy", "pinning through an access across a huge page boundary, then destroying the domain, unpins cleanly",
                    hugetlb: true) { ctx, fx, _ in
            let size = Int(2 * MS.hugePage)
            let buf = try needBuffer(size, hugetlb: true)
            try ctx.step("map huge buffer") { try fx.fd.raw.map(ioas: fx.ioas, userVA: buf.va, length: UInt64(size), iova: fx.baseIOVA) }
            let access = try ctx.step("CREATE_ACCESS") { try fx.test.createAccess(fx.ioasID, flags: .needsPinPages) }
            let pin = try ctx.step("ACCESS_PAGES") {
                try fx.test.accessPages(access.id, iova: fx.baseIOVA + MS.page, length: MS.page, userVA: buf.va + MS.page)
            }
            if fx.hasDomain {
                try ctx.step("destroy the mock device") { try fx.fd.raw.destroy(fx.stdev) }
            }
            try ctx.step("DESTROY_ACCESS_PAGES") { try fx.test.destroyAccessPages(access.id, pagesID: pin) }
            try closeAccess(ctx, access)
        }
        out += ioas("access-pin", "ACCESS_PAGES of 1..15 pages: single, double user, and with a domain added and removed under it", needsMock: true) { ctx, fx, _ in
            let size = UInt64(fx.buffer.count), va = fx.buffer.va
            let access = try ctx.step("CREATE_ACCESS") { try fx.test.createAccess(fx.ioasID, flags: .needsPinPages) }
            for n in 1..<(Int(size / MS.page)) {
                let len = UInt64(n) * MS.page
                try ctx.step("[\(n)] map") { try fx.fd.raw.map(ioas: fx.ioas, userVA: va, length: size, iova: MS.apertureStart) }
                let a = try ctx.step("[\(n)] pin") { try fx.test.accessPages(access.id, iova: MS.apertureStart, length: len, userVA: va) }
                try ctx.step("[\(n)] unpin") { try fx.test.destroyAccessPages(access.id, pagesID: a) }
                let b1 = try ctx.step("[\(n)] pin 1") { try fx.test.accessPages(access.id, iova: MS.apertureStart, length: len, userVA: va) }
                let b2 = try ctx.step("[\(n)] pin 2") { try fx.test.accessPages(access.id, iova: MS.apertureStart, length: len, userVA: va) }
                try ctx.step("[\(n)] unpin 2, 1") {
                    try fx.test.destroyAccessPages(access.id, pagesID: b2)
                    try fx.test.destroyAccessPages(access.id, pagesID: b1)
                }
                let c = try ctx.step("[\(n)] pin") { try fx.test.accessPages(access.id, iova: MS.apertureStart, length: len, userVA: va) }
                let md = try ctx.step("[\(n)] add a mock domain") { try fx.test.mockDomain(fx.ioasID) }
                try checkMock(ctx, fx, hwpts: [md.hwptID.rawValue], va: va, iova: MS.apertureStart, length: size)
                try ctx.step("[\(n)] remove it") { try fx.fd.raw.destroy(md.stdevID.rawValue) }
                try ctx.step("[\(n)] unpin") { try fx.test.destroyAccessPages(access.id, pagesID: c) }
                try ctx.step("[\(n)] unmap") { try fx.fd.raw.unmap(ioas: fx.ioas, iova: MS.apertureStart, length: size) }
            }
            try closeAccess(ctx, access)
        }
        out += ioas("access-pin-unmap", "UNMAP under a pinning access calls its unmap op, which drops the pin (DESTROY_ACCESS_PAGES then ENOENT)") { ctx, fx, _ in
            let size = UInt64(fx.buffer.count)
            let access = try ctx.step("CREATE_ACCESS") { try fx.test.createAccess(fx.ioasID, flags: .needsPinPages) }
            try ctx.step("map") { try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: size, iova: MS.apertureStart) }
            let pin = try ctx.step("pin") { try fx.test.accessPages(access.id, iova: MS.apertureStart, length: size, userVA: fx.buffer.va) }
            try ctx.step("unmap") { try fx.fd.raw.unmap(ioas: fx.ioas, iova: MS.apertureStart, length: size) }
            try ctx.expectErrno(.noSuchFileOrDirectory, "pin already gone") { try fx.test.destroyAccessPages(access.id, pagesID: pin) }
        }
        out += ioas("access-rw", "ACCESS_RW reads and writes the mapped memory at odd IOVAs and lengths, fast and slow path") { ctx, fx, _ in
            let size = UInt64(fx.buffer.count)
            let access = try ctx.step("CREATE_ACCESS") { try fx.test.createAccess(fx.ioasID) }
            let iova = try ctx.step("auto map") { try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: size) }
            try checkAccessRW(ctx, fx, access: access.id, iova: iova)
            try checkAccessRW(ctx, fx, access: access.id, iova: iova, flags: .slowPath)
            try ctx.step("unmap") { try fx.fd.raw.unmap(ioas: fx.ioas, iova: iova, length: size) }
            try closeAccess(ctx, access)
        }
        out += ioas("access-rw-unaligned", "ACCESS_RW through an area mapped at a half-page (2 KiB) IOVA") { ctx, fx, _ in
            let size = UInt64(fx.buffer.count)
            let access = try ctx.step("CREATE_ACCESS") { try fx.test.createAccess(fx.ioasID) }
            let iova = fx.baseIOVA + MS.mockPage
            try ctx.step("map at +2 KiB") { try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: size, iova: iova) }
            try checkAccessRW(ctx, fx, access: access.id, iova: iova)
            try ctx.step("unmap") { try fx.fd.raw.unmap(ioas: fx.ioas, iova: iova, length: size) }
            try closeAccess(ctx, access)
        }
        out += ioas("fork-gone", "a mapping made by an exited child: with a domain its pages stay pinned and usable; without one a later attach fails EFAULT", needsMock: true) { ctx, fx, _ in
            let access = try ctx.step("CREATE_ACCESS") { try fx.test.createAccess(fx.ioasID) }
            let size = UInt64(fx.buffer.count), va = fx.buffer.va, fd = fx.fd, ioas = fx.ioas
            let child = inChild { outcome { try fd.raw.map(ioas: ioas, userVA: va, length: size, iova: MS.apertureStart) } }
            try ctx.checkEqual(child.output, "OK", "map in the child")
            if fx.hasDomain {
                try ctx.step("MOCK_DOMAIN (copies from the existing domain)") { try fx.test.mockDomain(fx.ioasID) }
                try checkAccessRW(ctx, fx, access: access.id, iova: MS.apertureStart)
            } else {
                try ctx.expectErrno(.badAddress, "MOCK_DOMAIN must pin from the gone mm") { try fx.test.mockDomain(fx.ioasID) }
            }
            try closeAccess(ctx, access)
        }
        out += ioas("fork-present", "a mapping made by a live child is pinned from the child's mm when a domain is added", needsMock: true) { ctx, fx, _ in
            let access = try ctx.step("CREATE_ACCESS") { try fx.test.createAccess(fx.ioasID) }
            let size = UInt64(fx.buffer.count), va = fx.buffer.va
            var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0]
            try ctx.check(pipe(&toChild) == 0 && pipe(&fromChild) == 0, "pipe")
            let pid = fork()
            if pid == 0 {
                close(toChild[1]); close(fromChild[0])
                let r = outcome { try fx.fd.raw.map(ioas: fx.ioas, userVA: va, length: size, iova: MS.apertureStart) }
                _ = r.withCString { write(fromChild[1], $0, strlen($0)) }
                close(fromChild[1])
                var b: UInt8 = 0
                _ = read(toChild[0], &b, 1)
                _exit(0)
            }
            close(toChild[0]); close(fromChild[1])
            var got = [UInt8](repeating: 0, count: 64)
            let n = read(fromChild[0], &got, 64)
            close(fromChild[0])
            try ctx.checkEqual(String(decoding: got.prefix(max(n, 0)), as: UTF8.self), "OK", "map in the child")
            try ctx.step("MOCK_DOMAIN (pins from the child)") { try fx.test.mockDomain(fx.ioasID) }
            try checkAccessRW(ctx, fx, access: access.id, iova: MS.apertureStart)
            close(toChild[1])
            var status: Int32 = 0
            try ctx.check(waitpid(pid, &status, 0) == pid, "waitpid did not return the child")
            try closeAccess(ctx, access)
        }
        out += ioas("ioas-option-huge-pages", "HUGE_PAGES per IOAS: reads 1, set 0 reads 0, 2 is EINVAL, back to 1") { ctx, fx, _ in
            let opt = UInt32(IOMMU_OPTION_HUGE_PAGES.rawValue)
            try ctx.checkEqual(try ctx.step("get") { try fx.fd.raw.option(opt, object: fx.ioas) }, 1, "initial")
            try ctx.step("set 0") { try fx.fd.raw.option(opt, object: fx.ioas, set: 0) }
            try ctx.checkEqual(try ctx.step("get") { try fx.fd.raw.option(opt, object: fx.ioas) }, 0, "after set 0")
            try ctx.expectErrno(.invalidArgument, "set 2") { try fx.fd.raw.option(opt, object: fx.ioas, set: 2) }
            try ctx.step("set 1") { try fx.fd.raw.option(opt, object: fx.ioas, set: 1) }
        }
        out += ioas("ioas-iova-alloc", "auto-IOVA maps of odd lengths: EINVAL off the 2 KiB alignment with a domain, else map+unmap (lengths sampled)") { ctx, fx, v in
            var len: UInt64 = 1
            while len < 2 * MS.page {
                if v.domains > 0 && len % MS.mockPage != 0 {
                    try ctx.expectErrno(.invalidArgument, "length \(len)") { try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: len) }
                } else {
                    let iova = try ctx.step("map length \(len)") { try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: len) }
                    try ctx.step("unmap length \(len)") { try fx.fd.raw.unmap(ioas: fx.ioas, iova: iova, length: len) }
                }
                len += len < 16 ? 1 : 61
                if len > MS.mockPage - 2 && len < MS.mockPage + 2 { len = MS.mockPage }
            }
            try ctx.step("exact 2 KiB") {
                let iova = try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: MS.mockPage)
                try fx.fd.raw.unmap(ioas: fx.ioas, iova: iova, length: MS.mockPage)
            }
        }
        out += ioas("ioas-align-change", "HUGE_PAGES 0 raises the alignment to PAGE_SIZE: misaligned maps EINVAL; raising it over a misaligned area EADDRINUSE",
                    variants: [.noDomain]) { ctx, fx, _ in
            let opt = UInt32(IOMMU_OPTION_HUGE_PAGES.rawValue), p = MS.page, a = MS.apertureStart
            try ctx.step("map aligned") { try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: p, iova: a) }
            try ctx.step("HUGE_PAGES 0") { try fx.fd.raw.option(opt, object: fx.ioas, set: 0) }
            try ctx.expectErrno(.invalidArgument, "map at user_va +2 KiB") {
                try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va + MS.mockPage, length: p, iova: a + p)
            }
            try ctx.step("HUGE_PAGES 0 again") { try fx.fd.raw.option(opt, object: fx.ioas, set: 0) }
            try ctx.step("HUGE_PAGES 1") { try fx.fd.raw.option(opt, object: fx.ioas, set: 1) }
            try ctx.step("map at user_va +2 KiB") { try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va + MS.mockPage, length: p, iova: a + p) }
            try ctx.expectErrno(.addressInUse, "HUGE_PAGES 0 over it") { try fx.fd.raw.option(opt, object: fx.ioas, set: 0) }
            try ctx.step("unmap both") {
                try fx.fd.raw.unmap(ioas: fx.ioas, iova: a + p, length: p)
                try fx.fd.raw.unmap(ioas: fx.ioas, iova: a, length: p)
            }
        }
        out += ioas("copy-sweep", "COPY of 2 KiB from every 511th IOVA around the area: ENOENT unless fully inside") { ctx, fx, v in
            let dst = try ctx.step("IOAS_ALLOC dst") { try fx.fd.raw.allocIOAS() }
            let size = UInt64(fx.buffer.count)
            let last = v.domains > 0 ? MS.apertureStart + size - 1 : MS.apertureStart + size - 2
            try ctx.step("map") { try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: last - MS.apertureStart + 1, iova: MS.apertureStart) }
            var iova = MS.apertureStart - MS.page
            let len = MS.mockPage
            while iova <= last {
                let src = iova
                if src < MS.apertureStart || src + len - 1 > last {
                    try ctx.expectErrno(.noSuchFileOrDirectory, "copy from 0x\(String(src, radix: 16))") {
                        try fx.fd.raw.copy(dst: dst, src: fx.ioas, srcIOVA: src, length: len, dstIOVA: MS.apertureStart, flags: MS.write)
                    }
                } else {
                    try ctx.step("copy from 0x\(String(src, radix: 16))") {
                        try fx.fd.raw.copy(dst: dst, src: fx.ioas, srcIOVA: src, length: len, dstIOVA: MS.apertureStart, flags: MS.write)
                        try fx.fd.raw.unmap(ioas: dst, iova: MS.apertureStart, length: len)
                    }
                }
                iova += 511
            }
            try ctx.step("destroy dst") { try fx.fd.raw.destroy(dst) }
        }
        return out
    }

    // MARK: iommufd_mock_domain

    enum MDVariant: String, CaseIterable {
        case one = "one_domain", two = "two_domains", oneHuge = "one_domain_hugepage", twoHuge = "two_domains_hugepage"
        var domains: Int { self == .one || self == .oneHuge ? 1 : 2 }
        var huge: Bool { self == .oneHuge || self == .twoHuge }
    }

    static func md(_ name: String, _ rule: String, since: KernelVersion = "6.2", variants: [MDVariant] = [.one, .two],
                   _ body: @escaping @Sendable (CaseContext, Fx, MDVariant) throws -> Void) -> [ConformanceCase] {
        variants.map { v in
            ConformanceCase("mock.domain.\(name)", rule: rule, since: since,
                            requires: v.huge ? [.iommufd, .testModule, .hugetlb] : [.iommufd, .testModule],
                            mode: v.rawValue) { ctx in
                try withMockFixture(ctx, domains: v.domains) { fx in try body(ctx, fx, v) }
            }
        }
    }

    static func mmapBuf(_ fx: Fx, _ v: MDVariant) throws -> MBuf {
        let b = try needBuffer(v.huge ? Int(2 * MS.hugePage) : Int(MS.page) * 8, hugetlb: v.huge)
        fx.tracked.append(b)
        return b
    }

    static var mockDomainCases: [ConformanceCase] {
        var out: [ConformanceCase] = []
        out += md("basic", "a map reaches every mock domain; MAP of a half-unmapped or unmapped buffer fails EFAULT",
                  variants: MDVariant.allCases) { ctx, fx, v in
            let iova = try ctx.step("map 1 page") { try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: MS.page) }
            try checkMock(ctx, fx, hwpts: fx.domains.map(\.hwptID.rawValue), va: fx.buffer.va, iova: iova, length: MS.page)
            let b = try needBuffer(v.huge ? Int(2 * MS.hugePage) : Int(MS.page) * 8, hugetlb: v.huge)
            let half = b.count / 2
            try ctx.check(munmap(b.base + half, half) == 0, "munmap second half")
            try ctx.expectErrno(.badAddress, "map with the second half gone") { try fx.fd.raw.map(ioas: fx.ioas, userVA: b.va, length: UInt64(b.count)) }
            try ctx.check(munmap(b.base, half) == 0, "munmap first half")
            try ctx.expectErrno(.badAddress, "map with nothing there") { try fx.fd.raw.map(ioas: fx.ioas, userVA: b.va, length: UInt64(b.count)) }
        }
        out += md("ro-unshare", "a read-only map of a private file page keeps its PFN after the process writes to the page") { ctx, fx, _ in
            let f = open("/proc/self/exe", O_RDONLY)
            try ctx.check(f >= 0, "open /proc/self/exe")
            guard let p = mmap(nil, Int(MS.page), PROT_READ | PROT_WRITE, MAP_PRIVATE, f, 0), Int(bitPattern: p) != -1 else {
                throw CaseFailure("mmap /proc/self/exe failed")
            }
            close(f)
            defer { munmap(p, Int(MS.page)) }
            let va = UInt64(UInt(bitPattern: p))
            let iova = try ctx.step("map READABLE") { try fx.fd.raw.map(ioas: fx.ioas, userVA: va, length: MS.page, flags: MS.read) }
            try checkMock(ctx, fx, hwpts: fx.domains.map(\.hwptID.rawValue), va: va, iova: iova, length: MS.page)
            memset(p, 1, Int(MS.page))
            try checkMock(ctx, fx, hwpts: fx.domains.map(\.hwptID.rawValue), va: va, iova: iova, length: MS.page)
        }
        out += md("all-aligns", "every start/length combination on 2 KiB steps maps into the domains with the right pages and one pin",
                  variants: MDVariant.allCases) { ctx, fx, v in
            let buf = try mmapBuf(fx, v)
            let size = buf.count, step = v.huge ? size / 16 : Int(MS.mockPage), mp = Int(MS.mockPage), pg = Int(MS.page)
            try ctx.step("refs 0 before") { try fx.test.checkRefs(userVA: buf.va, length: UInt64(size), refs: 0) }
            var start = 0
            while start < size {
                var end = v.huge ? size : start + mp
                while end < size {
                    let len = UInt64(end - start)
                    let iova = try ctx.step("map [\(start), \(end))") { try fx.fd.raw.map(ioas: fx.ioas, userVA: buf.at(start), length: len) }
                    try checkMock(ctx, fx, hwpts: fx.domains.map(\.hwptID.rawValue), va: buf.at(start), iova: iova, length: len)
                    let rs = start / pg * pg, re = end / pg * pg
                    if re > rs {
                        try ctx.step("refs 1 [\(start), \(end))") {
                            try fx.test.checkRefs(userVA: buf.at(rs), length: UInt64(re - rs), refs: 1)
                        }
                    }
                    try ctx.step("unmap") { try fx.fd.raw.unmap(ioas: fx.ioas, iova: iova, length: len) }
                    end += mp
                }
                start += step
            }
            try ctx.step("refs 0 after") { try fx.test.checkRefs(userVA: buf.va, length: UInt64(size), refs: 0) }
        }
        out += md("all-aligns-copy", "like all-aligns, with a domain added (filled from the existing one) and removed per area",
                  variants: MDVariant.allCases) { ctx, fx, v in
            let buf = try mmapBuf(fx, v)
            let size = buf.count, step = v.huge ? size / 16 : Int(MS.mockPage) * 3, mp = Int(MS.mockPage), pg = Int(MS.page)
            var start = 0
            while start < size {
                var end = v.huge ? size : start + mp
                while end < size {
                    let len = UInt64(end - start)
                    let iova = try ctx.step("map [\(start), \(end))") { try fx.fd.raw.map(ioas: fx.ioas, userVA: buf.at(start), length: len) }
                    let md = try ctx.step("add mock domain") { try fx.test.mockDomain(fx.ioasID) }
                    try checkMock(ctx, fx, hwpts: [fx.hwpt, md.hwptID.rawValue], va: buf.at(start), iova: iova, length: len)
                    let rs = start / pg * pg, re = end / pg * pg
                    if re > rs {
                        try ctx.step("refs 1") { try fx.test.checkRefs(userVA: buf.at(rs), length: UInt64(re - rs), refs: 1) }
                    }
                    try ctx.step("remove it, unmap") {
                        try fx.fd.raw.destroy(md.stdevID.rawValue)
                        try fx.fd.raw.unmap(ioas: fx.ioas, iova: iova, length: len)
                    }
                    end += 3 * mp
                }
                start += step
            }
            try ctx.step("refs 0 after") { try fx.test.checkRefs(userVA: buf.va, length: UInt64(size), refs: 0) }
        }
        out += md("user-copy", "pages pinned by an access in a domain-less IOAS COPY into the domain IOAS; the access moves to a new IOAS (6.6+)",
                  since: "6.6") { ctx, fx, _ in
            let size = UInt64(fx.buffer.count), va = fx.buffer.va
            let ioas1 = try ctx.step("IOAS_ALLOC") { try fx.fd.raw.allocIOAS() }
            let src1 = try ctx.step("map into it") { try fx.fd.raw.map(ioas: ioas1, userVA: va, length: size) }
            let access = try ctx.step("CREATE_ACCESS") { try fx.test.createAccess(IOASID(rawValue: ioas1), flags: .needsPinPages) }
            _ = try ctx.step("pin") { try fx.test.accessPages(access.id, iova: src1, length: size, userVA: va) }
            try ctx.step("copy") { try fx.fd.raw.copy(dst: fx.ioas, src: ioas1, srcIOVA: src1, length: size, dstIOVA: MS.apertureStart, flags: MS.write) }
            try checkMock(ctx, fx, hwpts: fx.domains.map(\.hwptID.rawValue), va: va, iova: MS.apertureStart, length: size)
            let ioas2 = try ctx.step("IOAS_ALLOC new") { try fx.fd.raw.allocIOAS() }
            let src2 = try ctx.step("map into new") { try fx.fd.raw.map(ioas: ioas2, userVA: va, length: size) }
            try ctx.step("ACCESS_REPLACE_IOAS") { try fx.test.accessReplaceIOAS(access.id, with: IOASID(rawValue: ioas2)) }
            try ctx.step("unmap the copy") { try fx.fd.raw.unmap(ioas: fx.ioas, iova: MS.apertureStart, length: size) }
            try ctx.step("destroy the old IOAS") { try fx.fd.raw.destroy(ioas1) }
            let pin = try ctx.step("pin in new") { try fx.test.accessPages(access.id, iova: src2, length: size, userVA: va) }
            try ctx.step("copy from new") { try fx.fd.raw.copy(dst: fx.ioas, src: ioas2, srcIOVA: src2, length: size, dstIOVA: MS.apertureStart, flags: MS.write) }
            try checkMock(ctx, fx, hwpts: fx.domains.map(\.hwptID.rawValue), va: va, iova: MS.apertureStart, length: size)
            try ctx.step("unpin") { try fx.test.destroyAccessPages(access.id, pagesID: pin) }
            try closeAccess(ctx, access)
            try ctx.step("destroy new IOAS") { try fx.fd.raw.destroy(ioas2) }
        }
        out += md("replace", "MOCK_DOMAIN_REPLACE between IOASes and HWPTs; the replaced auto HWPT is freed (ENOENT)", since: "6.6") { ctx, fx, v in
            let ioas2 = try ctx.step("IOAS_ALLOC") { try fx.fd.raw.allocIOAS() }
            let s0 = fx.domains[0].stdevID
            try ctx.step("replace onto new IOAS") { try fx.test.mockDomainReplace(s0, with: IOASID(rawValue: ioas2)) }
            if v.domains == 1 {
                try ctx.expectErrno(.noSuchFileOrDirectory, "old auto HWPT is gone") {
                    try fx.test.mockDomainReplace(s0, with: fx.domains[0].hwptID)
                }
            }
            try ctx.step("replace onto new IOAS again") { try fx.test.mockDomainReplace(s0, with: IOASID(rawValue: ioas2)) }
            if v.domains >= 2 {
                try ctx.step("onto hwpt[1] twice, then hwpt[0]") {
                    try fx.test.mockDomainReplace(s0, with: fx.domains[1].hwptID)
                    try fx.test.mockDomainReplace(s0, with: fx.domains[1].hwptID)
                    try fx.test.mockDomainReplace(s0, with: fx.domains[0].hwptID)
                }
            }
            try ctx.step("back onto the fixture IOAS") { try fx.test.mockDomainReplace(s0, with: fx.ioasID) }
            try ctx.step("destroy new IOAS") { try fx.fd.raw.destroy(ioas2) }
        }
        out += md("alloc-hwpt", "HWPT_ALLOC per device: bad flags EOPNOTSUPP; rotate the device through two HWPTs (EBUSY while attached)", since: "6.6") { ctx, fx, _ in
            for d in fx.domains {
                let dev = d.deviceID.rawValue
                try ctx.expectErrno(.notSupported, "flags ~NEST_PARENT") {
                    try fx.fd.raw.allocHWPT(device: dev, pt: fx.ioas, flags: ~HWPTCases.nestParent)
                }
                let h0 = try ctx.step("alloc 0") { try fx.fd.raw.allocHWPT(device: dev, pt: fx.ioas) }
                let h1 = try ctx.step("alloc NEST_PARENT") { try fx.fd.raw.allocHWPT(device: dev, pt: fx.ioas, flags: HWPTCases.nestParent) }
                try ctx.step("replace onto h0") { try fx.test.mockDomainReplace(d.stdevID, with: HWPTID(rawValue: h0)) }
                try ctx.expectErrno(.resourceBusy, "destroy h0") { try fx.fd.raw.destroy(h0) }
                try ctx.step("replace onto h1") { try fx.test.mockDomainReplace(d.stdevID, with: HWPTID(rawValue: h1)) }
                try ctx.expectErrno(.resourceBusy, "destroy h1") { try fx.fd.raw.destroy(h1) }
                try ctx.step("replace onto IOAS") { try fx.test.mockDomainReplace(d.stdevID, with: fx.ioasID) }
                try ctx.step("destroy h1") { try fx.fd.raw.destroy(h1) }
                let md = try ctx.step("MOCK_DOMAIN on h0") { try fx.test.mockDomain(HWPTID(rawValue: h0)) }
                try ctx.step("destroy it, then h0") {
                    try fx.fd.raw.destroy(md.stdevID.rawValue)
                    try fx.fd.raw.destroy(h0)
                }
            }
        }
        return out
    }
}

/// Closes a mock access fd (DESTROY of the access); close(2) must succeed.
func closeAccess(_ ctx: CaseContext, _ access: consuming MockAccess) throws {
    var failure: IOMMUFDError?
    do { try access.close() } catch { failure = error }
    try ctx.check(failure == nil, "close access: \(failure.map { "\($0)" } ?? "")")
}

extension Result where Failure == IOMMUFDError {
    func orFail(_ what: String) throws { if case .failure(let e) = self { throw CaseFailure("\(what): \(e)") } }
}

extension TestCommands {
    /// accessRW as a Result, for tight loops that should not count one assertion per call.
    func accessRWResult(_ access: AccessID, iova: UInt64, buffer: UnsafeMutableRawBufferPointer,
                        flags: MockAccessRWFlags) -> Result<Void, IOMMUFDError> {
        do throws(IOMMUFDError) {
            try self.accessRW(access, iova: iova, buffer: buffer, flags: flags)
            return .success(())
        } catch { return .failure(error) }
    }
}
