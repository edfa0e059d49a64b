// `iommufd_ioas` selftest fixture, part 2: IOVA ranges, accesses and pinning, fork,
// huge-page option, IOVA allocation and copy sweeps. Helpers: MockDomainCases.swift.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

extension MockDomainCases {
    static var ioasCasesMemory: [ConformanceCase] {
        var out: [ConformanceCase] = []
        out += ioas("iova-ranges", "IOVA_RANGES: the full range or the aperture; too small an array gets EMSGSIZE with the count and no slot written past num_iovas; a reserved page splits the range only without a domain") { ctx, fx, _ in
            let p = MS.page
            // The selftest passes a large array and sets num_iovas below it: slots past
            // num_iovas must keep our marker (start UInt64.max, last 0).
            var out = RawIOVARangesReply()
            func untouched(_ i: Int) -> Bool { out.slots[i].start == .max && out.slots[i].last == 0 }
            try ctx.step("IOVA_RANGES") { try fx.fd.raw.iovaRanges(ioas: fx.ioas, capacity: 16, reply: &out) }
            try ctx.checkEqual(out.count, 1, "num")
            if fx.hasDomain {
                try ctx.checkEqual([out.slots[0].start, out.slots[0].last, out.alignment], [MS.apertureStart, MS.apertureLast, MS.mockPage], "aperture")
            } else {
                try ctx.checkEqual([out.slots[0].start, out.slots[0].last, out.alignment], [0, UInt64(UInt.max), 1], "full range")
            }
            try ctx.expectErrno(.messageTooLong, "num_iovas 0") { try fx.fd.raw.iovaRanges(ioas: fx.ioas, capacity: 0, arrayCount: 16, reply: &out) }
            try ctx.checkEqual(out.count, 1, "num after EMSGSIZE")
            try ctx.check(untouched(0), "num_iovas 0 yet slot 0 written: \(out.slots[0])")
            try ctx.step("ADD_RESERVED [p, 2p)") { try fx.test.addReserved(fx.ioasID, start: p, length: p) }
            try ctx.step("IOVA_RANGES") { try fx.fd.raw.iovaRanges(ioas: fx.ioas, capacity: 16, reply: &out) }
            if fx.hasDomain {
                try ctx.checkEqual(out.count, 1, "num")
                try ctx.checkEqual([out.slots[0].start, out.slots[0].last], [MS.apertureStart, MS.apertureLast], "aperture")
                try ctx.step("num_iovas 1 is enough") { try fx.fd.raw.iovaRanges(ioas: fx.ioas, capacity: 1, arrayCount: 16, reply: &out) }
                try ctx.checkEqual(out.count, 1, "num")
                try ctx.checkEqual([out.slots[0].start, out.slots[0].last], [MS.apertureStart, MS.apertureLast], "aperture")
            } else {
                try ctx.checkEqual(out.count, 2, "num")
                try ctx.checkEqual([out.slots[0].start, out.slots[0].last, out.slots[1].start, out.slots[1].last], [0, p - 1, 2 * p, UInt64(UInt.max)], "ranges")
                try ctx.expectErrno(.messageTooLong, "num_iovas 1") { try fx.fd.raw.iovaRanges(ioas: fx.ioas, capacity: 1, arrayCount: 16, reply: &out) }
                try ctx.checkEqual(out.count, 2, "num after EMSGSIZE")
                try ctx.checkEqual([out.slots[0].start, out.slots[0].last], [0, p - 1], "first range")
            }
            try ctx.check(untouched(1), "num_iovas 1 yet slot 1 written: \(out.slots[1])")
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
        out += ioas("ioas-iova-alloc", "auto-IOVA maps of every length 1 ... 2 * PAGE_SIZE - 1: EINVAL off the 2 KiB alignment with a domain, else map and unmap") { ctx, fx, v in
            // 8191 lengths: one assertion per kind, the first failure names its length.
            var refused = 0, mapped = 0
            for len in UInt64(1)..<(2 * MS.page) {
                let result = outcome {
                    let iova = try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: len)
                    try fx.fd.raw.unmap(ioas: fx.ioas, iova: iova, length: len)
                }
                let expected = v.domains > 0 && len % MS.mockPage != 0 ? "EINVAL" : "OK"
                if result != expected { throw CaseFailure("auto map+unmap of length \(len): \(result), expected \(expected)") }
                if expected == "OK" { mapped += 1 } else { refused += 1 }
            }
            let aligned = v.domains > 0 ? Int(2 * MS.page / MS.mockPage) - 1 : Int(2 * MS.page) - 1
            try ctx.checkEqual(mapped, aligned, "lengths mapped and unmapped")
            try ctx.checkEqual(refused, Int(2 * MS.page) - 1 - aligned, "lengths refused EINVAL")
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
}
