// `iommufd_ioas` selftest fixture, part 1: objects, areas, auto-IOVA, allowed ranges and
// copy (tools/testing/selftests/iommu/iommufd.c). Helpers: MockDomainCases.swift.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

extension MockDomainCases {
    static var ioasCasesObjects: [ConformanceCase] {
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
        return out
    }
}
