// `iommufd_mock_domain` selftest fixture: one or two mock domains, with and without
// huge pages (tools/testing/selftests/iommu/iommufd.c). Helpers: MockDomainCases.swift.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

extension MockDomainCases {
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
