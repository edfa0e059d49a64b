// `iommufd_ioas` selftest fixture, part 4: what 7.x added to it — the reserved-region
// overflow regression and MAP_FILE of the test module's dma-buf (reserved_overflow,
// dmabuf_simple, dmabuf_revoke; 7.3.4 iommufd.c:984, :1587, :1602). Helpers: MockDomainCases.swift.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

extension MockDomainCases {
    static var ioasCasesFile: [ConformanceCase] {
        var out: [ConformanceCase] = []
        out += ioas("reserved-overflow", "a reserved region reaching the top of the IOVA space leaves no room: an auto-IOVA MAP fails ENOSPC (the ALIGN overflow fixed in 6.16, https://lore.kernel.org/r/685af644.a00a0220.2e5631.0094.GAE@google.com)",
                    since: "6.16") { ctx, fx, _ in
            // The selftest's values: a 4 KiB page kernel reserves [6, 2^64 - 0x7fff].
            let fourK = MS.page == 4096
            let length: UInt64 = fourK ? 0xffff_ffff_ffff_8001 : .max - MS.mockPage * 16
            let mapLength: UInt64 = fourK ? 0x5000 : MS.mockPage * 10
            try ctx.step("ADD_RESERVED [6, +0x\(String(length, radix: 16)))") { try fx.test.addReserved(fx.ioasID, start: 6, length: length) }
            try ctx.expectErrno(.noSpace, "auto map 0x\(String(mapLength, radix: 16)) bytes") {
                try fx.fd.raw.map(ioas: fx.ioas, userVA: fx.buffer.va, length: mapLength)
            }
        }
        out += ioas("dmabuf-simple", "MAP_FILE of the test module's dma-buf: length 0, a start at its end, or a length past it fail EINVAL; the whole buffer maps",
                    since: "6.19") { ctx, fx, _ in
            let size = 4 * MS.page
            let dmabuf = try getDMABuf(ctx, fx, length: size)
            defer { close(dmabuf) }
            for (what, start, length) in [("length 0", UInt64(0), UInt64(0)), ("start at the end", size, size), ("length + 1", 0, size + 1)] {
                try ctx.expectErrno(.invalidArgument, "MAP_FILE \(what)") {
                    try fx.fd.raw.mapFile(ioas: fx.ioas, file: dmabuf, start: start, length: length)
                }
            }
            try ctx.step("MAP_FILE the whole dma-buf") { try fx.fd.raw.mapFile(ioas: fx.ioas, file: dmabuf, start: 0, length: size) }
        }
        out += ioas("dmabuf-revoke", "a revoked dma-buf: its mapping stays and a new HWPT can still be filled from it, but MAP_FILE fails ENODEV until it is un-revoked; then it maps again, also at its old IOVA after UNMAP",
                    since: "6.19") { ctx, fx, _ in
            let size = 4 * MS.page
            let dmabuf = try getDMABuf(ctx, fx, length: size)
            defer { close(dmabuf) }
            let iova = try ctx.step("MAP_FILE") { try fx.fd.raw.mapFile(ioas: fx.ioas, file: dmabuf, start: 0, length: size) }
            try ctx.step("DMABUF_REVOKE on") { try fx.test.dmabufRevoke(dmabuf, revoked: true) }
            if fx.hasDomain {
                try ctx.step("HWPT_ALLOC over the revoked area") { try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas) }
            }
            try ctx.expectErrno(.operationNotSupportedByDevice, "MAP_FILE of the revoked dma-buf") {
                try fx.fd.raw.mapFile(ioas: fx.ioas, file: dmabuf, start: 0, length: size)
            }
            try ctx.step("DMABUF_REVOKE off") { try fx.test.dmabufRevoke(dmabuf, revoked: false) }
            try ctx.step("MAP_FILE again") { try fx.fd.raw.mapFile(ioas: fx.ioas, file: dmabuf, start: 0, length: size) }
            try ctx.step("UNMAP the first mapping") { try fx.fd.raw.unmap(ioas: fx.ioas, iova: iova, length: size) }
            try ctx.step("MAP_FILE at its IOVA") { try fx.fd.raw.mapFile(ioas: fx.ioas, file: dmabuf, start: 0, length: size, iova: iova) }
        }
        return out
    }

    /// DMABUF_GET, returning the dma-buf's fd. The selftest takes the ioctl's return value
    /// as the fd; 7.3.4's module returns 0 instead (selftest.c:2063, docs/kernel-bugs/
    /// selftest-dmabuf-get-fd.md), and the fd is then the lowest one free before the call
    /// (get_unused_fd_flags), which is checked to be a dma-buf.
    static func getDMABuf(_ ctx: CaseContext, _ fx: Fx, length: UInt64) throws -> Int32 {
        let lowest = open("/dev/null", O_RDONLY)
        try ctx.check(lowest >= 0, "open /dev/null")
        close(lowest)
        let returned = try ctx.step("DMABUF_GET \(length) bytes") {
            try fx.test.dmabufGet(length: UInt32(length), openFlags: UInt32(O_CLOEXEC))
        }
        try ctx.check(returned == 0 || returned == lowest,
                      "DMABUF_GET returned \(returned): neither the new fd (\(lowest)) nor 7.3.4's 0")
        var link = [CChar](repeating: 0, count: 256)
        let n = readlink("/proc/self/fd/\(lowest)", &link, link.count - 1)
        let target = n > 0 ? String(decoding: link.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "(none)"
        try ctx.check(target.contains("dmabuf"), "fd \(lowest) after DMABUF_GET is \(target), not a dma-buf")
        return lowest
    }
}
