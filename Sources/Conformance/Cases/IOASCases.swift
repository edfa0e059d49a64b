// Errno rules of IOMMU_IOAS_MAP / COPY / UNMAP / IOVA_RANGES / ALLOW_IOVAS / VFIO_IOAS and
// IOAS destruction, as the 6.12.117 kernel answers them. Raw ioctls are used
// so the library's own validation never answers first.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

enum IOASCases {
    static var all: [ConformanceCase] { plain + withMock }

    static func plainCase(_ id: String, _ rule: String,
                          _ body: @escaping @Sendable (CaseContext, KernelFD, UInt32, MBuf) throws -> Void) -> ConformanceCase {
        ConformanceCase(id, rule: rule, requires: [.iommufd]) { ctx in
            let iommufd = try ctx.openIOMMUFD()
            let fd = iommufd.fd
            let buf = try needBuffer(MS.bufferSize, align: Int(MS.hugePage))
            let ioas = try ctx.step("IOAS_ALLOC") { try fd.raw.allocIOAS() }
            try body(ctx, fd, ioas, buf)
            _ = consume iommufd
        }
    }

    static func mockCase(_ id: String, _ rule: String, domains: Int = 1, flags: MockDeviceFlags? = nil, needsMock: Bool = false,
                         _ body: @escaping @Sendable (CaseContext, Fx) throws -> Void) -> ConformanceCase {
        ConformanceCase(id, rule: rule, requires: [.iommufd, .testModule]) { ctx in
            try withMockFixture(ctx, domains: domains, domainFlags: flags, needsMock: needsMock) { fx in try body(ctx, fx) }
        }
    }

    static let iovaBase: UInt64 = 1 << 20

    // MARK: no test module needed

    static let plain: [ConformanceCase] = [
        plainCase("ioas.map.overlap", "MAP over an existing area fails EEXIST (io_pagetable.c:199)") { ctx, fd, ioas, buf in
            let p = MS.page
            try ctx.step("map 2 pages at base") { try fd.raw.map(ioas: ioas, userVA: buf.va, length: 2 * p, iova: iovaBase) }
            for (off, len) in [(UInt64(0), p), (p, p), (0, 2 * p), (p, 2 * p)] {
                try ctx.expectErrno(.fileExists, "map \(len) at base+\(off)") {
                    try fd.raw.map(ioas: ioas, userVA: buf.va, length: len, iova: iovaBase + off)
                }
            }
            try ctx.expectErrno(.fileExists, "map 3 pages at base-page") {
                try fd.raw.map(ioas: ioas, userVA: buf.va, length: 3 * p, iova: iovaBase - p)
            }
            try ctx.step("adjacent map after the area") { try fd.raw.map(ioas: ioas, userVA: buf.va, length: p, iova: iovaBase + 2 * p) }
        },
        plainCase("ioas.map.no-access-flag", "MAP without READABLE or WRITEABLE fails EINVAL (ioas.c:216)") { ctx, fd, ioas, buf in
            try ctx.expectErrno(.invalidArgument, "flags FIXED_IOVA only") {
                try fd.raw.map(ioas: ioas, userVA: buf.va, length: MS.page, iova: iovaBase, flags: 0)
            }
            try ctx.expectErrno(.invalidArgument, "flags 0, auto IOVA") {
                try fd.raw.map(ioas: ioas, userVA: buf.va, length: MS.page, flags: 0)
            }
        },
        plainCase("ioas.map.unknown-flag", "MAP with an undefined flag bit fails EOPNOTSUPP") { ctx, fd, ioas, buf in
            try ctx.expectErrno(.notSupported, "flags |= 1<<31") {
                try fd.raw.map(ioas: ioas, userVA: buf.va, length: MS.page, iova: iovaBase, flags: MS.rw | (1 << 31))
            }
        },
        plainCase("ioas.map.iova-wrap", "MAP whose iova + length wraps fails EOVERFLOW (io_pagetable.c:191)") { ctx, fd, ioas, buf in
            try ctx.expectErrno(.overflow, "iova 2^64 - page, 2 pages") {
                try fd.raw.map(ioas: ioas, userVA: buf.va, length: 2 * MS.page, iova: 0 &- MS.page)
            }
        },
        plainCase("ioas.map.iova-ulong-max", "MAP with iova >= ULONG_MAX fails EOVERFLOW (ioas.c:213)") { ctx, fd, ioas, buf in
            try ctx.expectErrno(.overflow, "iova U64_MAX") {
                try fd.raw.map(ioas: ioas, userVA: buf.va, length: MS.page, iova: .max)
            }
            try ctx.expectErrno(.overflow, "length U64_MAX") {
                try fd.raw.map(ioas: ioas, userVA: buf.va, length: .max, iova: 0)
            }
        },
        plainCase("ioas.map.user-va-wrap", "MAP whose user_va + length wraps fails EOVERFLOW (pages.c:1155)") { ctx, fd, ioas, _ in
            try ctx.expectErrno(.overflow, "user_va 2^64 - page, 2 pages") {
                try fd.raw.map(ioas: ioas, userVA: 0 &- MS.page, length: 2 * MS.page, iova: iovaBase)
            }
        },
        plainCase("ioas.map.length-zero", "MAP of length 0 fails EINVAL") { ctx, fd, ioas, buf in
            try ctx.expectErrno(.invalidArgument, "fixed, length 0") {
                try fd.raw.map(ioas: ioas, userVA: buf.va, length: 0, iova: iovaBase)
            }
            try ctx.expectErrno(.invalidArgument, "auto, length 0") {
                try fd.raw.map(ioas: ioas, userVA: buf.va, length: 0)
            }
        },
        plainCase("ioas.map.bad-ioas", "MAP into an id that is no IOAS fails ENOENT") { ctx, fd, ioas, buf in
            try ctx.expectErrno(.noSuchFileOrDirectory, "ioas_id 0") {
                try fd.raw.map(ioas: 0, userVA: buf.va, length: MS.page, iova: iovaBase)
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "ioas_id+1000") {
                try fd.raw.map(ioas: ioas + 1000, userVA: buf.va, length: MS.page, iova: iovaBase)
            }
        },
        plainCase("ioas.map.auto-enospc", "auto-IOVA MAP with no room left in the allowed ranges fails ENOSPC (io_pagetable.c:178)") { ctx, fd, ioas, buf in
            let p = MS.page
            let start = 16 * p
            try ctx.step("ALLOW_IOVAS 2 pages") { try fd.raw.allowIOVAs(ioas: ioas, [IOVARange(start: start, last: start + 2 * p - 1)]) }
            let iova = try ctx.step("auto map 1 page") { try fd.raw.map(ioas: ioas, userVA: buf.va, length: p) }
            try ctx.check(iova >= start && iova + p - 1 <= start + 2 * p - 1, "auto IOVA 0x\(String(iova, radix: 16)) outside the allowed range")
            try ctx.expectErrno(.noSpace, "auto map 2 pages") {
                try fd.raw.map(ioas: ioas, userVA: buf.va, length: 2 * p)
            }
        },
        plainCase("ioas.allow.fixed-outside", "allowed ranges steer auto-IOVA only; a FIXED map outside them succeeds (io_pagetable.c:154)") { ctx, fd, ioas, buf in
            let p = MS.page
            try ctx.step("ALLOW_IOVAS [16p, 32p)") { try fd.raw.allowIOVAs(ioas: ioas, [IOVARange(start: 16 * p, last: 32 * p - 1)]) }
            let iova = try ctx.expectOK("FIXED map at 1 MiB, outside the allowed range") {
                try fd.raw.map(ioas: ioas, userVA: buf.va, length: p, iova: iovaBase)
            }
            try ctx.checkEqual(iova, iovaBase, "iova written back")
        },
        plainCase("ioas.allow.steers-auto", "auto-IOVA maps land inside the allowed range") { ctx, fd, ioas, buf in
            let p = MS.page
            let lo = 200 * p, hi = 600 * p - 1
            try ctx.step("ALLOW_IOVAS") { try fd.raw.allowIOVAs(ioas: ioas, [IOVARange(start: lo, last: hi)]) }
            for n in 1...6 {
                let len = UInt64(n) * p
                let iova = try ctx.step("auto map \(n) pages") { try fd.raw.map(ioas: ioas, userVA: buf.va, length: len) }
                try ctx.check(iova >= lo && iova + len - 1 <= hi, "IOVA 0x\(String(iova, radix: 16)) outside [\(lo), \(hi)]")
            }
        },
        plainCase("ioas.allow.start-gt-last", "ALLOW_IOVAS with start > last fails EINVAL (ioas.c:125)") { ctx, fd, ioas, _ in
            try ctx.expectErrno(.invalidArgument, "[0x2000, 0x1000]") {
                try fd.raw.allowIOVAs(ioas: ioas, [IOVARange(start: 0x2000, last: 0x1000)])
            }
        },
        plainCase("ioas.allow.start-eq-last", "ALLOW_IOVAS with start == last fails EINVAL too (ioas.c:125 tests >=)") { ctx, fd, ioas, _ in
            try ctx.expectErrno(.invalidArgument, "[0x2000, 0x2000]") {
                try fd.raw.allowIOVAs(ioas: ioas, [IOVARange(start: 0x2000, last: 0x2000)])
            }
        },
        plainCase("ioas.allow.overlap", "ALLOW_IOVAS with overlapping ranges fails EINVAL (ioas.c:128)") { ctx, fd, ioas, _ in
            try ctx.expectErrno(.invalidArgument, "[0x1000,0x2fff] + [0x2000,0x3fff]") {
                try fd.raw.allowIOVAs(ioas: ioas, [IOVARange(start: 0x1000, last: 0x2fff), IOVARange(start: 0x2000, last: 0x3fff)])
            }
            try ctx.step("disjoint ranges are accepted") {
                try fd.raw.allowIOVAs(ioas: ioas, [IOVARange(start: 0x1000, last: 0x1fff), IOVARange(start: 0x2000, last: 0x3fff)])
            }
        },
        plainCase("ioas.copy.src-unmapped", "COPY from an IOVA range that is not mapped fails ENOENT (io_pagetable.c:646)") { ctx, fd, ioas, _ in
            let dst = try ctx.step("IOAS_ALLOC dst") { try fd.raw.allocIOAS() }
            try ctx.expectErrno(.noSuchFileOrDirectory, "copy 1 page from empty") {
                try fd.raw.copy(dst: dst, src: ioas, srcIOVA: iovaBase, length: MS.page)
            }
        },
        plainCase("ioas.copy.src-partial", "COPY of a range only partly mapped in the source fails ENOENT") { ctx, fd, ioas, buf in
            let p = MS.page
            let dst = try ctx.step("IOAS_ALLOC dst") { try fd.raw.allocIOAS() }
            try ctx.step("map 1 page") { try fd.raw.map(ioas: ioas, userVA: buf.va, length: p, iova: iovaBase) }
            try ctx.expectErrno(.noSuchFileOrDirectory, "copy 2 pages") {
                try fd.raw.copy(dst: dst, src: ioas, srcIOVA: iovaBase, length: 2 * p)
            }
            let iova = try ctx.step("copy the mapped page") {
                try fd.raw.copy(dst: dst, src: ioas, srcIOVA: iovaBase, length: p)
            }
            try ctx.checkEqual(try ctx.step("unmap the copy") { try fd.raw.unmap(ioas: dst, iova: iova, length: p) }, p, "bytes unmapped")
        },
        plainCase("ioas.unmap.split", "UNMAP of part of an area fails ENOENT and leaves it mapped (io_pagetable.c:688)") { ctx, fd, ioas, buf in
            let p = MS.page
            try ctx.step("map 2 pages") { try fd.raw.map(ioas: ioas, userVA: buf.va, length: 2 * p, iova: iovaBase) }
            try ctx.expectErrno(.noSuchFileOrDirectory, "unmap first page") { try fd.raw.unmap(ioas: ioas, iova: iovaBase, length: p) }
            try ctx.expectErrno(.noSuchFileOrDirectory, "unmap second page") { try fd.raw.unmap(ioas: ioas, iova: iovaBase + p, length: p) }
            let n = try ctx.step("unmap whole area") { try fd.raw.unmap(ioas: ioas, iova: iovaBase, length: 2 * p) }
            try ctx.checkEqual(n, 2 * p, "bytes unmapped")
        },
        plainCase("ioas.unmap.nothing", "UNMAP where nothing is mapped fails ENOENT (ioas.c:320)") { ctx, fd, ioas, _ in
            for i in 0..<4 {
                try ctx.expectErrno(.noSuchFileOrDirectory, "unmap page \(i)") {
                    try fd.raw.unmap(ioas: ioas, iova: UInt64(i) * MS.page, length: MS.page)
                }
            }
        },
        plainCase("ioas.unmap.length-zero", "UNMAP of length 0 fails EINVAL (io_pagetable.c:766)") { ctx, fd, ioas, buf in
            try ctx.step("map") { try fd.raw.map(ioas: ioas, userVA: buf.va, length: MS.page, iova: iovaBase) }
            try ctx.expectErrno(.invalidArgument, "unmap length 0") { try fd.raw.unmap(ioas: ioas, iova: iovaBase, length: 0) }
        },
        plainCase("ioas.unmap.all-empty", "UNMAP (0, U64_MAX) succeeds on an empty IOAS and reports 0 bytes (ioas.c:307)") { ctx, fd, ioas, _ in
            let n = try ctx.step("unmap all") { try fd.raw.unmap(ioas: ioas, iova: 0, length: .max) }
            try ctx.checkEqual(n, 0, "bytes unmapped")
        },
        plainCase("ioas.unmap.all", "UNMAP (0, U64_MAX) removes every area and reports the total") { ctx, fd, ioas, buf in
            let p = MS.page
            for i in 0..<3 {
                try ctx.step("map #\(i)") { try fd.raw.map(ioas: ioas, userVA: buf.va, length: 2 * p, iova: iovaBase + UInt64(i) * 4 * p) }
            }
            try ctx.checkEqual(try ctx.step("unmap all") { try fd.raw.unmap(ioas: ioas, iova: 0, length: .max) }, 6 * p, "bytes unmapped")
            try ctx.checkEqual(try ctx.step("unmap all again") { try fd.raw.unmap(ioas: ioas, iova: 0, length: .max) }, 0, "bytes unmapped")
        },
        plainCase("ioas.unmap.contained", "UNMAP of a range covering whole areas unmaps them all; a range cutting one fails ENOENT") { ctx, fd, ioas, buf in
            let p = MS.page
            let base = iovaBase + 4 * p
            for i in 0..<4 {
                try ctx.step("map #\(i)") { try fd.raw.map(ioas: ioas, userVA: buf.va, length: 8 * p, iova: base + UInt64(i) * 16 * p) }
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "range cutting the first area") {
                try fd.raw.unmap(ioas: ioas, iova: base - 4 * p, length: 8 * p)
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "range cutting the last area") {
                try fd.raw.unmap(ioas: ioas, iova: base + 3 * 16 * p + 4 * p, length: 8 * p)
            }
            let n = try ctx.step("covering range") {
                try fd.raw.unmap(ioas: ioas, iova: base - 4 * p, length: 3 * 16 * p + 8 * p + 4 * p)
            }
            try ctx.checkEqual(n, 32 * p, "bytes unmapped")
        },
        plainCase("ioas.iova-ranges.default", "a fresh IOAS reports one range [0, ULONG_MAX] with alignment 1") { ctx, fd, ioas, _ in
            var out = RawIOVARangesReply()
            try ctx.step("IOVA_RANGES") { try fd.raw.iovaRanges(ioas: ioas, capacity: 8, reply: &out) }
            try ctx.checkEqual(out.count, 1, "num_iovas")
            try ctx.checkEqual(out.slots[0].start, 0, "start")
            try ctx.checkEqual(out.slots[0].last, UInt64(UInt.max), "last")
            try ctx.checkEqual(out.alignment, 1, "alignment")
        },
        plainCase("ioas.iova-ranges.emsgsize", "IOVA_RANGES with too small an array fails EMSGSIZE and reports the needed count (ioas.c:105)") { ctx, fd, ioas, _ in
            var out = RawIOVARangesReply()
            try ctx.expectErrno(.messageTooLong, "num_iovas 0") {
                try fd.raw.iovaRanges(ioas: ioas, capacity: 0, reply: &out)
            }
            try ctx.checkEqual(out.count, 1, "num_iovas written back")
            try ctx.checkEqual(out.alignment, 1, "alignment written back")
            try ctx.step("num_iovas = needed") {
                try fd.raw.iovaRanges(ioas: ioas, capacity: Int(out.count), reply: &out)
            }
        },
        plainCase("ioas.destroy.twice", "DESTROY of an IOAS succeeds once, then fails ENOENT") { ctx, fd, ioas, buf in
            try ctx.step("map") { try fd.raw.map(ioas: ioas, userVA: buf.va, length: MS.page, iova: iovaBase) }
            try ctx.step("destroy with an area") { try fd.raw.destroy(ioas) }
            try ctx.expectErrno(.noSuchFileOrDirectory, "destroy again") { try fd.raw.destroy(ioas) }
            try ctx.expectErrno(.noSuchFileOrDirectory, "map into the destroyed IOAS") {
                try fd.raw.map(ioas: ioas, userVA: buf.va, length: MS.page, iova: iovaBase)
            }
        },
        plainCase("ioas.option.huge-pages", "HUGE_PAGES reads 1, can be set to 0 and back, and rejects 2 with EINVAL") { ctx, fd, ioas, _ in
            let opt = UInt32(IOMMU_OPTION_HUGE_PAGES.rawValue)
            try ctx.checkEqual(try ctx.step("get") { try fd.raw.option(opt, object: ioas) }, 1, "initial")
            try ctx.step("set 0") { try fd.raw.option(opt, object: ioas, set: 0) }
            try ctx.checkEqual(try ctx.step("get") { try fd.raw.option(opt, object: ioas) }, 0, "after set 0")
            try ctx.expectErrno(.invalidArgument, "set 2") { try fd.raw.option(opt, object: ioas, set: 2) }
            try ctx.step("set 1") { try fd.raw.option(opt, object: ioas, set: 1) }
        },
        ConformanceCase("vfio-ioas.get-none", rule: "VFIO_IOAS GET with no compat IOAS fails ENODEV (vfio_compat.c:17)",
                        requires: [.iommufd]) { ctx in
            let iommufd = try ctx.openIOMMUFD()
            try ctx.expectErrno(.operationNotSupportedByDevice, "GET") { try iommufd.vfioCompatIOAS() }
        },
        ConformanceCase("vfio-ioas.set-bad-id", rule: "VFIO_IOAS SET of an id that is no IOAS fails ENOENT", requires: [.iommufd]) { ctx in
            let iommufd = try ctx.openIOMMUFD()
            try ctx.expectErrno(.noSuchFileOrDirectory, "SET 0") {
                try iommufd.setVFIOCompatIOAS(IOASID(rawValue: 0))
            }
        },
        ConformanceCase("vfio-ioas.set-get-clear", rule: "VFIO_IOAS SET then GET returns the id; CLEAR makes GET fail ENODEV again",
                        requires: [.iommufd]) { ctx in
            let iommufd = try ctx.openIOMMUFD()
            let ioas = try ctx.expectOK("IOAS_ALLOC") { try iommufd.allocIOAS() }
            try ctx.expectOK("SET") { try iommufd.setVFIOCompatIOAS(ioas.id) }
            let got = try ctx.expectOK("GET") { try iommufd.vfioCompatIOAS() }
            try ctx.checkEqual(got, ioas.id, "GET after SET")
            try ctx.expectOK("CLEAR") { try iommufd.clearVFIOCompatIOAS() }
            try ctx.expectErrno(.operationNotSupportedByDevice, "GET after CLEAR") { try iommufd.vfioCompatIOAS() }
            _ = consume ioas
        },
        ConformanceCase("vfio-ioas.unknown-op", rule: "VFIO_IOAS with an undefined op fails EOPNOTSUPP", requires: [.iommufd]) { ctx in
            let iommufd = try ctx.openIOMMUFD()
            try ctx.expectErrno(.notSupported, "op 7") { try iommufd.raw.vfioIOAS(op: 7) }
        },
    ]

    // MARK: mock domains / test commands

    static let withMock: [ConformanceCase] = [
        mockCase("ioas.map.misaligned-iova", "with a mock domain (alignment 2 KiB) a FIXED iova off that alignment fails EINVAL (io_pagetable.c:188)") { ctx, fx in
            try ctx.expectErrno(.invalidArgument, "iova aperture+1 KiB") {
                try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: MS.page, iova: MS.apertureStart + MS.mockPage / 2)
            }
            try ctx.step("aligned iova works") {
                try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: MS.page, iova: MS.apertureStart + MS.mockPage)
            }
        },
        mockCase("ioas.map.misaligned-length", "with a mock domain a length off the 2 KiB alignment fails EINVAL (io_pagetable.c:269)") { ctx, fx in
            try ctx.expectErrno(.invalidArgument, "length 1 KiB") {
                try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: MS.mockPage / 2, iova: MS.apertureStart)
            }
            try ctx.expectErrno(.invalidArgument, "length 1 KiB, auto") {
                try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: MS.mockPage / 2)
            }
        },
        mockCase("ioas.map.misaligned-user-va", "with a mock domain a user_va offset off the 2 KiB alignment fails EINVAL (io_pagetable.c:219)") { ctx, fx in
            try ctx.expectErrno(.invalidArgument, "user_va + 1 KiB") {
                try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va + MS.mockPage / 2, length: MS.mockPage, iova: MS.apertureStart)
            }
        },
        mockCase("ioas.map.bad-user-va", "with a domain attached, MAP of unmapped user memory fails EFAULT (pinning happens at map)") { ctx, fx in
            let hole = try needBuffer(Int(MS.page) * 4)
            let va = hole.va
            munmap(hole.base, hole.count)
            try ctx.expectErrno(.badAddress, "user_va unmapped") {
                try fx.fd.raw.map(ioas: fx.ioas, userVA: va, length: 4 * MS.page, iova: MS.apertureStart)
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "nothing left mapped") {
                try fx.fd.raw.unmap(ioas: fx.ioas, iova: MS.apertureStart, length: 4 * MS.page)
            }
        },
        mockCase("ioas.map.bad-user-va-no-domain", "without a domain nothing is pinned at MAP, so unmapped user memory maps; the attach of a domain then fails EFAULT", domains: 0, needsMock: true) { ctx, fx in
            let hole = try needBuffer(Int(MS.page) * 4)
            let va = hole.va
            munmap(hole.base, hole.count)
            try ctx.step("map unmapped memory with no domain") {
                try fx.fd.raw.map(ioas: fx.ioas, userVA: va, length: 4 * MS.page, iova: MS.apertureStart)
            }
            try ctx.expectErrno(.badAddress, "MOCK_DOMAIN must pin it") {
                try fx.test.mockDomain(fx.ioasID)
            }
        },
        mockCase("ioas.map.outside-aperture", "with a mock domain, a FIXED map outside its aperture [16M, 2G) fails EINVAL (reserved)") { ctx, fx in
            try ctx.expectErrno(.invalidArgument, "iova 0") {
                try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: MS.page, iova: 0)
            }
            try ctx.expectErrno(.invalidArgument, "iova 2 GiB") {
                try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: MS.page, iova: MS.apertureLast + 1)
            }
            try ctx.expectErrno(.invalidArgument, "straddling the aperture end") {
                try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: 2 * MS.page, iova: MS.apertureLast + 1 - MS.page)
            }
        },
        mockCase("ioas.map.reserved", "a FIXED map into a reserved region fails EINVAL (io_pagetable.c:195)", domains: 0) { ctx, fx in
            let p = MS.page
            try ctx.step("ADD_RESERVED [1M, 1M+16p)") { try fx.test.addReserved(fx.ioasID, start: iovaBase, length: 16 * p) }
            try ctx.expectErrno(.invalidArgument, "map inside") {
                try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: p, iova: iovaBase + 4 * p)
            }
            try ctx.expectErrno(.invalidArgument, "map overlapping the start") {
                try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: 2 * p, iova: iovaBase - p)
            }
            try ctx.step("map right after") { try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: p, iova: iovaBase + 16 * p) }
        },
        mockCase("ioas.allow.reserved", "ALLOW_IOVAS intersecting a reserved region fails EADDRINUSE (io_pagetable.c:796)", domains: 0) { ctx, fx in
            let p = MS.page
            try ctx.step("ADD_RESERVED [4p, 104p)") { try fx.test.addReserved(fx.ioasID, start: 4 * p, length: 100 * p) }
            try ctx.expectErrno(.addressInUse, "allow [p, 600p]") { try fx.fd.raw.allowIOVAs(ioas: fx.ioas, [IOVARange(start: p, last: 600 * p)]) }
            try ctx.step("allow [200p, 600p)") { try fx.fd.raw.allowIOVAs(ioas: fx.ioas, [IOVARange(start: 200 * p, last: 600 * p - 1)]) }
        },
        mockCase("ioas.reserved.over-allowed", "ADD_RESERVED inside an allowed range fails EADDRINUSE; after clearing the allowed ranges it succeeds", domains: 0) { ctx, fx in
            let p = MS.page
            try ctx.step("allow [1M, 1M+600p]") { try fx.fd.raw.allowIOVAs(ioas: fx.ioas, [IOVARange(start: iovaBase, last: iovaBase + 600 * p)]) }
            try ctx.expectErrno(.addressInUse, "reserve 1 page inside") {
                try fx.test.addReserved(fx.ioasID, start: iovaBase + p, length: p)
            }
            try ctx.step("clear allowed") { try fx.fd.raw.allowIOVAs(ioas: fx.ioas, []) }
            try ctx.step("reserve again") { try fx.test.addReserved(fx.ioasID, start: iovaBase + p, length: p) }
        },
        mockCase("ioas.iova-ranges.reserved-split", "a reserved page splits the range in two; a one-entry array gets EMSGSIZE, num 2, and the first range", domains: 0) { ctx, fx in
            let p = MS.page
            try ctx.step("ADD_RESERVED [p, 2p)") { try fx.test.addReserved(fx.ioasID, start: p, length: p) }
            var out = RawIOVARangesReply()
            try ctx.step("IOVA_RANGES, 8 slots") { try fx.fd.raw.iovaRanges(ioas: fx.ioas, capacity: 8, reply: &out) }
            try ctx.checkEqual(out.count, 2, "num_iovas")
            try ctx.checkEqual([out.slots[0].start, out.slots[0].last, out.slots[1].start, out.slots[1].last],
                               [0, p - 1, 2 * p, UInt64(UInt.max)], "ranges")
            try ctx.expectErrno(.messageTooLong, "1 slot") {
                try fx.fd.raw.iovaRanges(ioas: fx.ioas, capacity: 1, reply: &out)
            }
            try ctx.checkEqual(out.count, 2, "num_iovas after EMSGSIZE")
            try ctx.checkEqual([out.slots[0].start, out.slots[0].last], [0, p - 1], "first range filled")
        },
        mockCase("ioas.iova-ranges.mock-domain", "with a mock domain IOVA_RANGES is the aperture [16M, 2G-1] with 2 KiB alignment") { ctx, fx in
            var out = RawIOVARangesReply()
            try ctx.step("IOVA_RANGES") { try fx.fd.raw.iovaRanges(ioas: fx.ioas, capacity: 8, reply: &out) }
            try ctx.checkEqual(out.count, 1, "num_iovas")
            try ctx.checkEqual([out.slots[0].start, out.slots[0].last], [MS.apertureStart, MS.apertureLast], "range")
            try ctx.checkEqual(out.alignment, MS.mockPage, "alignment")
        },
        mockCase("ioas.destroy.attached", "DESTROY of an IOAS a mock device is attached to fails EBUSY, also with areas") { ctx, fx in
            try ctx.expectErrno(.resourceBusy, "destroy IOAS") { try fx.fd.raw.destroy(fx.ioas) }
            try ctx.step("map") { try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: MS.page, iova: MS.apertureStart) }
            try ctx.expectErrno(.resourceBusy, "destroy IOAS with an area") { try fx.fd.raw.destroy(fx.ioas) }
            try ctx.step("destroy the mock device") { try fx.fd.raw.destroy(fx.stdev) }
            try ctx.step("destroy the IOAS now") { try fx.fd.raw.destroy(fx.ioas) }
        },
        mockCase("ioas.copy.to-domain", "COPY into an IOAS with a mock domain maps the same pages there (MD_CHECK_MAP)") { ctx, fx in
            let src = try ctx.step("IOAS_ALLOC src") { try fx.fd.raw.allocIOAS() }
            let len = UInt64(fx.buffer.count)
            let srcIOVA = try ctx.step("map into src") { try fx.fd.raw.map(ioas: src, userVA: fx.buffer.va, length: len) }
            try ctx.step("copy") {
                try fx.fd.raw.copy(dst: fx.ioas, src: src, srcIOVA: srcIOVA, length: len, dstIOVA: MS.apertureStart)
            }
            try ctx.step("MD_CHECK_MAP") {
                try fx.test.checkMap(HWPTID(rawValue: fx.hwpt), iova: MS.apertureStart, length: len, userVA: fx.buffer.va)
            }
            try ctx.step("MD_CHECK_REFS 1 while mapped") {
                try fx.test.checkRefs(userVA: fx.buffer.va, length: len, refs: 1)
            }
        },
    ]
}
