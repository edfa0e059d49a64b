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
        case oneFile = "one_domain_file", oneFileHuge = "one_domain_file_hugepage"
        var domains: Int { self == .two || self == .twoHuge ? 2 : 1 }
        var huge: Bool { self == .oneHuge || self == .twoHuge || self == .oneFileHuge }
        /// The 7.x file variants map memfds with MAP_FILE (6.13+).
        var file: Bool { self == .oneFile || self == .oneFileHuge }
        /// mmap_buf_size: 8 pages, or two huge pages.
        var bufferSize: Int { huge ? Int(2 * MS.hugePage) : Int(MS.page) * 8 }
        /// all_aligns' start step: every 2 KiB, or 16 starts over the huge buffer.
        var alignStep: Int { huge ? bufferSize / 16 : Int(MS.mockPage) }
    }

    static func md(_ name: String, _ rule: String, since: KernelVersion = "6.2", variants: [MDVariant] = MDVariant.allCases,
                   _ body: @escaping @Sendable (CaseContext, Fx, MDVariant) throws -> Void) -> [ConformanceCase] {
        variants.map { v in
            ConformanceCase("mock.domain.\(name)", rule: rule, since: v.file ? max(since, "6.13") : since,
                            requires: v.huge && !v.file ? [.iommufd, .testModule, .hugetlb] : [.iommufd, .testModule],
                            mode: v.rawValue) { ctx in
                try withMockFixture(ctx, domains: v.domains, checkDevCache: true) { fx in try body(ctx, fx, v) }
            }
        }
    }

    /// The buffer a test maps: anonymous (hugetlb for the hugepage variants) or, for the
    /// file variants, a plain memfd's MAP_SHARED view (memfd_mmap without MAP_HUGETLB, as
    /// the selftest calls it). Its pages must be unpinned at teardown.
    static func mappable(_ fx: Fx, _ v: MDVariant, size: Int? = nil) throws -> (MBuf, MemFile?) {
        let count = size ?? v.bufferSize
        if v.file {
            let file = try MemFile.memfd(size: count)
            let b = try MBuf.view(of: file)
            fx.tracked.append(b)
            return (b, file)
        }
        let b = try needBuffer(count, hugetlb: v.huge)
        fx.tracked.append(b)
        return (b, nil)
    }

    /// IOAS_MAP of `buffer[start, start + length)`, or MAP_FILE of the same file range.
    static func mapArea(_ fx: Fx, _ b: MBuf, _ file: MemFile?, start: Int, length: UInt64, ioas: UInt32? = nil) throws(IOMMUFDError) -> UInt64 {
        if let file { return try fx.fd.raw.mapFile(ioas: ioas ?? fx.ioas, file: file.fd, start: UInt64(start), length: length) }
        return try fx.fd.raw.map(ioas: ioas ?? fx.ioas, userVA: b.at(start), length: length)
    }

    static var mockDomainCases: [ConformanceCase] {
        var out: [ConformanceCase] = []
        out += md("basic", "a one-page map reaches every mock domain; MAP of a half-unmapped or unmapped buffer fails EFAULT; MAP_FILE (file variants) past the memfd's end or of a truncated memfd fails EINVAL") { ctx, fx, v in
            if v.file { try basicFile(ctx, fx, v) } else { try basicMmap(ctx, fx, v) }
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
        out += md("all-aligns", "every start/length combination on 2 KiB steps maps (MAP or MAP_FILE) into the domains with the right pages and one pin; the hugepage variants only check the refs (their one end is the buffer's)") { ctx, fx, v in
            try allAligns(ctx, fx, v, addDomain: false)
        }
        out += md("all-aligns-copy", "like all-aligns, with a mock domain added (filled from the existing one) and removed while each area exists") { ctx, fx, v in
            try allAligns(ctx, fx, v, addDomain: true)
        }
        out += md("user-copy", "pages pinned by an access in a domain-less IOAS COPY into the domain IOAS; the access moves to a new IOAS (6.6+); file variants map the memfd",
                  since: "6.6") { ctx, fx, v in
            let size = MS.bufferSize
            let (buf, file) = try mappable(fx, v, size: v.file ? size : nil)
            let va = v.file ? buf.va : fx.buffer.va, length = UInt64(size)
            func mapSource(_ ioas: UInt32) throws(IOMMUFDError) -> UInt64 {
                if let file { return try fx.fd.raw.mapFile(ioas: ioas, file: file.fd, start: 0, length: length) }
                return try fx.fd.raw.map(ioas: ioas, userVA: va, length: length)
            }
            let ioas1 = try ctx.step("IOAS_ALLOC") { try fx.fd.raw.allocIOAS() }
            let src1 = try ctx.step("map into it") { try mapSource(ioas1) }
            let access = try ctx.step("CREATE_ACCESS") { try fx.test.createAccess(IOASID(rawValue: ioas1), flags: .needsPinPages) }
            _ = try ctx.step("pin") { try fx.test.accessPages(access.id, iova: src1, length: length, userVA: va) }
            try ctx.step("copy") { try fx.fd.raw.copy(dst: fx.ioas, src: ioas1, srcIOVA: src1, length: length, dstIOVA: MS.apertureStart, flags: MS.write) }
            try checkMock(ctx, fx, hwpts: fx.domains.map(\.hwptID.rawValue), va: va, iova: MS.apertureStart, length: length)
            let ioas2 = try ctx.step("IOAS_ALLOC new") { try fx.fd.raw.allocIOAS() }
            let src2 = try ctx.step("map into new") { try mapSource(ioas2) }
            try ctx.step("ACCESS_REPLACE_IOAS") { try fx.test.accessReplaceIOAS(access.id, with: IOASID(rawValue: ioas2)) }
            try ctx.step("unmap the copy") { try fx.fd.raw.unmap(ioas: fx.ioas, iova: MS.apertureStart, length: length) }
            try ctx.step("destroy the old IOAS") { try fx.fd.raw.destroy(ioas1) }
            let pin = try ctx.step("pin in new") { try fx.test.accessPages(access.id, iova: src2, length: length, userVA: va) }
            try ctx.step("copy from new") { try fx.fd.raw.copy(dst: fx.ioas, src: ioas2, srcIOVA: src2, length: length, dstIOVA: MS.apertureStart, flags: MS.write) }
            try checkMock(ctx, fx, hwpts: fx.domains.map(\.hwptID.rawValue), va: va, iova: MS.apertureStart, length: length)
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

    /// test_basic_mmap (7.3.4 iommufd.c:1753).
    static func basicMmap(_ ctx: CaseContext, _ fx: Fx, _ v: MDVariant) throws {
        let iova = try ctx.step("map 1 page") { try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: MS.page) }
        try checkMock(ctx, fx, hwpts: fx.domains.map(\.hwptID.rawValue), va: fx.buffer.va, iova: iova, length: MS.page)
        let b = try needBuffer(v.bufferSize, hugetlb: v.huge)
        let half = b.count / 2
        try ctx.check(munmap(b.base + half, half) == 0, "munmap second half")
        try ctx.expectErrno(.badAddress, "map with the second half gone") { try fx.fd.raw.map(ioas: fx.ioas, userVA: b.va, length: UInt64(b.count)) }
        try ctx.check(munmap(b.base, half) == 0, "munmap first half")
        try ctx.expectErrno(.badAddress, "map with nothing there") { try fx.fd.raw.map(ioas: fx.ioas, userVA: b.va, length: UInt64(b.count)) }
    }

    /// test_basic_file (7.3.4 iommufd.c:1779): a page of a memfd maps; past its end, or once
    /// truncated, MAP_FILE fails EINVAL.
    static func basicFile(_ ctx: CaseContext, _ fx: Fx, _ v: MDVariant) throws {
        let (buf, file) = try mappable(fx, v, size: MS.bufferSize)
        let iova = try ctx.step("MAP_FILE 1 page") { try fx.fd.raw.mapFile(ioas: fx.ioas, file: file!.fd, start: 0, length: MS.page) }
        try checkMock(ctx, fx, hwpts: fx.domains.map(\.hwptID.rawValue), va: buf.va, iova: iova, length: MS.page)
        let tmp = try MemFile.memfd(size: v.bufferSize)
        try ctx.expectErrno(.invalidArgument, "MAP_FILE one byte past the end") {
            try fx.fd.raw.mapFile(ioas: fx.ioas, file: tmp.fd, start: 0, length: UInt64(v.bufferSize) + 1)
        }
        try ctx.check(ftruncate(tmp.fd, 0) == 0, "ftruncate the memfd to 0")
        try ctx.expectErrno(.invalidArgument, "MAP_FILE of the truncated memfd") {
            try fx.fd.raw.mapFile(ioas: fx.ioas, file: tmp.fd, start: 0, length: UInt64(v.bufferSize))
        }
    }

    /// all_aligns / all_aligns_copy (7.3.4 iommufd.c:1839, :1893): every [start, end) on
    /// 2 KiB steps (for the hugepage variants 16 starts and end = the buffer's end, so no
    /// area at all); each area checked in the domains (`addDomain`: in a mock domain added
    /// while it exists, then removed) and its pages pinned once.
    static func allAligns(_ ctx: CaseContext, _ fx: Fx, _ v: MDVariant, addDomain: Bool) throws {
        let (buf, file) = try mappable(fx, v)
        let size = buf.count, mp = Int(MS.mockPage), pg = Int(MS.page)
        try ctx.step("refs 0 before") { try fx.test.checkRefs(userVA: buf.va, length: UInt64(size), refs: 0) }
        var areas = 0
        for start in stride(from: 0, to: size, by: v.alignStep) {
            for end in stride(from: v.huge ? size : start + mp, to: size, by: mp) {
                let len = UInt64(end - start)
                let iova = try ctx.step("map [\(start), \(end))") { try mapArea(fx, buf, file, start: start, length: len) }
                var hwpts = fx.domains.map(\.hwptID.rawValue)
                var added: MockDomain?
                if addDomain {
                    added = try ctx.step("add a mock domain") { try fx.test.mockDomain(fx.ioasID) }
                    // The selftest's check_mock_iova then reads hwpt_ids[0] and the new one.
                    hwpts = [fx.hwpt, added!.hwptID.rawValue]
                }
                try checkMock(ctx, fx, hwpts: hwpts, va: buf.at(start), iova: iova, length: len)
                let rs = start / pg * pg, re = end / pg * pg
                if re > rs {
                    try ctx.step("refs 1 [\(start), \(end))") { try fx.test.checkRefs(userVA: buf.at(rs), length: UInt64(re - rs), refs: 1) }
                }
                if let added { try ctx.step("remove it") { try fx.fd.raw.destroy(added.stdevID.rawValue) } }
                try ctx.step("unmap") { try fx.fd.raw.unmap(ioas: fx.ioas, iova: iova, length: len) }
                areas += 1
            }
        }
        try ctx.checkEqual(areas, v.huge ? 0 : (size / mp) * (size / mp - 1) / 2, "areas mapped")
        try ctx.step("refs 0 after") { try fx.test.checkRefs(userVA: buf.va, length: UInt64(size), refs: 0) }
    }
}
