// IOMMU_IOAS_MAP_FILE (6.13): map a memfd by fd + offset instead of by user VA, checked
// with real edu DMA. Source references are to linux-source-7.3 (7.3.4):
// drivers/iommu/iommufd/ioas.c iommufd_ioas_map_file, io_pagetable.c iopt_map_file_pages,
// pages.c pin_memfd_pages, mm/gup.c memfd_pin_folios.
import CIOMMUFD
import Glibc
import IOMMUFD
import VFIO

enum MapFileCases {
    static var all: [ConformanceCase] {
        [memfdDMA, hugetlbDMA, tmpfsDMA, readOnlyMapping, errors, noDomain, mockDomain, writeAccess]
    }

    typealias M = MapFile

    /// Whether /proc/mounts lists `dir` as a tmpfs mount point.
    static func isTmpfs(_ dir: String) -> Bool {
        guard let f = fopen("/proc/mounts", "r") else { return false }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), f) != nil {
            let w = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ")
            if w.count > 2, w[1] == dir, w[2] == "tmpfs" { return true }
        }
        return false
    }

    /// memfd → device → anon, anon → device → memfd, and one file page at a second IOVA.
    static var memfdDMA: ConformanceCase {
        ConformanceCase("map-file.memfd.dma",
                        rule: "a device reads what the CPU wrote to a memfd through a MAP_FILE mapping, and its writes through one land in the file (seen through a second mmap)",
                        since: "6.13", requires: M.requirements(), mode: "native") { ctx in
            let (path, n) = try M.nativePath(ctx)
            let file = try MemFile.memfd(size: 2 * M.page)
            let cpu = try file.view()
            let anon = try DMABuffer(size: M.page)
            Pattern.fill(cpu.bytes, seed: 21, length: M.length)
            try ctx.expectOK("MAP_FILE start 0 (page 0) at src") {
                try n.ioas.mapFile(file.descriptor, start: 0, length: UInt64(M.page), at: M.src)
            }
            try ctx.expectOK("MAP_FILE start 4096 (page 1) at dst") {
                try n.ioas.mapFile(file.descriptor, start: UInt64(M.page), length: UInt64(M.page), at: M.dst)
            }
            try ctx.expectOK("MAP anon buffer") { try path.map(anon, length: M.page, iova: M.other) }
            try M.dma(ctx, path, "memfd page 0 → device → anon", from: M.src, to: M.other)
            try ctx.check(anon.matchesPattern(seed: 21, length: M.length), "the device did not read the memfd's bytes")

            anon.fillPattern(seed: 22, length: M.length)
            try M.dma(ctx, path, "anon → device → memfd page 1", from: M.other, to: M.dst)
            let second = try file.view()
            try ctx.check(Pattern.matches(second.bytes, at: M.page, seed: 22, length: M.length),
                          "the device's write through MAP_FILE is not in the file (second mmap, page 1)")
            try ctx.check(Pattern.matches(cpu.bytes, at: M.page, seed: 22, length: M.length),
                          "the first mmap does not see the device's write to the file")
            try ctx.check(Pattern.matches(second.bytes, seed: 21, length: M.length), "page 0 of the file changed")

            // The same file page again, at an IOVA the kernel picks (io_pagetable.c:286-293 aligns it like `start`).
            let iova = try ctx.expectOK("MAP_FILE page 0 again, kernel-chosen IOVA") {
                try n.ioas.mapFile(file.descriptor, start: 0, length: UInt64(M.page))
            }
            try ctx.check(iova != 0 && iova % UInt64(M.page) == 0, "kernel-chosen IOVA 0x\(String(iova, radix: 16)) is not page aligned")
            DMACases.memsetZero(anon)
            try M.dma(ctx, path, "page 0 through its second IOVA → anon", from: iova, to: M.other)
            try ctx.check(anon.matchesPattern(seed: 21, length: M.length), "the second mapping of page 0 read other bytes")
            try ctx.checkEqual(try ctx.expectOK("UNMAP src") {
                try n.ioas.unmap(iova: M.src, length: UInt64(M.page))
            }, UInt64(M.page), "bytes unmapped at src")
        }
    }

    /// A 2 MiB hugetlb memfd mapped whole, plus a 4 KiB slice from inside its folio.
    static var hugetlbDMA: ConformanceCase {
        ConformanceCase("map-file.hugetlb.dma",
                        rule: "MAP_FILE of a 2 MiB hugetlb memfd, whole or a 4 KiB slice inside the huge page, carries device reads and writes of the file",
                        since: "6.13", requires: M.requirements(hugetlb: true), mode: "native") { ctx in
            let (path, n) = try M.nativePath(ctx)
            let file = try MemFile.memfd(size: 2 << 20, hugetlb: true)
            let cpu = try file.view()
            let anon = try DMABuffer(size: M.page)
            let slice = 0x10_2000 // 1 MiB + 8 KiB: a 4 KiB page in the middle of the folio
            Pattern.fill(cpu.bytes, seed: 31, length: M.length)
            try ctx.expectOK("MAP_FILE the whole 2 MiB at src") {
                try n.ioas.mapFile(file.descriptor, start: 0, length: UInt64(file.size), at: M.src)
            }
            try ctx.expectOK("MAP_FILE start 0x102000 length 4096 at dst") {
                try n.ioas.mapFile(file.descriptor, start: UInt64(slice), length: UInt64(M.page), at: M.dst)
            }
            try ctx.expectOK("MAP anon buffer") { try path.map(anon, length: M.page, iova: M.other) }
            try M.dma(ctx, path, "hugetlb file offset 0 → device → anon", from: M.src, to: M.other)
            try ctx.check(anon.matchesPattern(seed: 31, length: M.length), "the device did not read the hugetlb file's bytes")

            anon.fillPattern(seed: 32, length: M.length)
            try M.dma(ctx, path, "anon → device → the 4 KiB slice", from: M.other, to: M.dst)
            anon.fillPattern(seed: 33, length: M.length)
            try M.dma(ctx, path, "anon → device → offset 0x80000 of the whole mapping", from: M.other, to: M.src + 0x8_0000)
            let second = try file.view()
            try ctx.check(Pattern.matches(second.bytes, at: slice, seed: 32, length: M.length),
                          "the write through the slice mapping is not at file offset 0x102000 (second mmap)")
            try ctx.check(Pattern.matches(second.bytes, at: 0x8_0000, seed: 33, length: M.length),
                          "the write through the whole-file mapping is not at file offset 0x80000 (second mmap)")
            try ctx.check(Pattern.matches(second.bytes, seed: 31, length: M.length), "file offset 0 changed")
            // The slice mapping and the whole mapping hold the same folio: reading through the whole
            // mapping at the slice's offset returns the slice's bytes.
            DMACases.memsetZero(anon)
            try M.dma(ctx, path, "whole mapping at +0x102000 → anon", from: M.src + UInt64(slice), to: M.other)
            try ctx.check(anon.matchesPattern(seed: 32, length: M.length), "the two mappings of the folio disagree")
        }
    }

    /// memfd_pin_folios takes any shmem file (mm/gup.c:3454), not only memfds.
    static var tmpfsDMA: ConformanceCase {
        ConformanceCase("map-file.tmpfs.dma",
                        rule: "MAP_FILE accepts a regular file on tmpfs like a memfd (any shmem file, mm/gup.c:3454) and the device's write lands in it",
                        since: "6.13", requires: M.requirements(), mode: "native") { ctx in
            guard isTmpfs("/tmp") else { try ctx.skip("/tmp is not a tmpfs mount") }
            let (path, n) = try M.nativePath(ctx)
            let file = try MemFile.regular(in: "/tmp", size: 2 * M.page)
            let anon = try DMABuffer(size: M.page)
            anon.fillPattern(seed: 41, length: M.length)
            try ctx.expectOK("MAP_FILE of a /tmp file, start 4096") {
                try n.ioas.mapFile(file.descriptor, start: UInt64(M.page), length: UInt64(M.page), at: M.dst)
            }
            try ctx.expectOK("MAP anon buffer") { try path.map(anon, length: M.page, iova: M.other) }
            try M.dma(ctx, path, "anon → device → tmpfs file", from: M.other, to: M.dst)
            var back = [UInt8](repeating: 0, count: M.length)
            let got = back.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress, M.length, off_t(M.page)) }
            try ctx.checkEqual(got, M.length, "pread of the file at 4096")
            let ok = back.withUnsafeMutableBytes { Pattern.matches($0, seed: 41, length: M.length) }
            try ctx.check(ok, "pread of the tmpfs file does not return the device's write")
        }
    }

    /// A READABLE-only MAP_FILE: the device reads it but its writes do not land.
    static var readOnlyMapping: ConformanceCase {
        ConformanceCase("map-file.read-only",
                        rule: "a READABLE-only MAP_FILE mapping lets the device read the file but not write it; an O_RDONLY fd suffices for it",
                        since: "6.13", requires: M.requirements(), mode: "native") { ctx in
            let (path, n) = try M.nativePath(ctx)
            let file = try MemFile.memfd(size: 2 * M.page)
            let cpu = try file.view()
            let anon = try DMABuffer(size: M.page)
            Pattern.fill(cpu.bytes, seed: 51, length: M.length)
            try ctx.expectOK("MAP_FILE page 0 READABLE at src") {
                try n.ioas.mapFile(file.descriptor, start: 0, length: UInt64(M.page), at: M.src, access: .read)
            }
            try ctx.expectOK("MAP_FILE page 1 READABLE at dst") {
                try n.ioas.mapFile(file.descriptor, start: UInt64(M.page), length: UInt64(M.page), at: M.dst, access: .read)
            }
            try ctx.expectOK("MAP anon buffer") { try path.map(anon, length: M.page, iova: M.other) }
            try M.dma(ctx, path, "read-only file page → device → anon", from: M.src, to: M.other)
            try ctx.check(anon.matchesPattern(seed: 51, length: M.length), "the device could not read a READABLE file mapping")
            try ctx.expectOK("device → read-only file page 1") {
                try path.edu.copyFromDevice(deviceOffset: 0, to: M.dst, length: M.length)
                try path.edu.wait(timeout: .seconds(10))
            }
            let second = try file.view()
            try ctx.check((0..<M.length).allSatisfy { second.bytes[M.page + $0] == 0 },
                          "the device wrote through a READABLE-only MAP_FILE mapping")
            // A READABLE-only mapping needs no write access to the file: an O_RDONLY fd will do.
            let ro = open("/proc/self/fd/\(file.fd)", O_RDONLY)
            try ctx.check(ro >= 0, "reopening the memfd O_RDONLY failed: errno \(errno)")
            defer { close(ro) }
            let iova = try ctx.expectOK("MAP_FILE READABLE of an O_RDONLY fd of the memfd") {
                try n.iommufd.fd.raw.mapFile(ioas: n.ioas.id.rawValue, file: ro, start: 0, length: UInt64(M.page),
                                            flags: M.read)
            }
            DMACases.memsetZero(anon)
            try M.dma(ctx, path, "O_RDONLY-fd mapping → device → anon", from: iova, to: M.other)
            try ctx.check(anon.matchesPattern(seed: 51, length: M.length), "the device could not read through the O_RDONLY-fd mapping")
        }
    }
}

extension MapFileCases {
    static let writeAccessFinding = "7.3.4: a WRITEABLE MAP_FILE ignores how the fd was opened and the memfd's write seals: an O_RDONLY fd, and memfds sealed with F_SEAL_WRITE or F_SEAL_FUTURE_WRITE, are mapped writable and the device's writes land in the file (iopt_map_file_pages and memfd_pin_folios check neither FMODE_WRITE nor seals; IOMMU_IOAS_MAP's pin needs a writable mapping, and udmabuf refuses write-sealed memfds)"

    /// uapi iommufd.h:260-265: MAP_FILE's semantics "match those of IOMMU_IOAS_MAP", whose
    /// WRITEABLE pin (FOLL_WRITE) fails on memory the process cannot write.
    static var writeAccess: ConformanceCase {
        ConformanceCase("map-file.write-access",
                        rule: "a WRITEABLE MAP_FILE of a file the caller cannot write (an O_RDONLY fd, a memfd with F_SEAL_WRITE or F_SEAL_FUTURE_WRITE) is refused, or at least the device's write does not reach the file",
                        since: "6.13", requires: M.requirements(), mode: "native") { ctx in
            try FailNthDeviceCases.skipKnownBug(ctx, writeAccessFinding)
            let (path, n) = try M.nativePath(ctx)
            let anon = try DMABuffer(size: M.page)
            anon.fillPattern(seed: 81, length: M.length)
            try ctx.expectOK("MAP anon buffer") { try path.map(anon, length: M.page, iova: M.other) }
            let mfdAllowSealing: UInt32 = 0x2, fAddSeals: Int32 = 1033 // include/uapi/linux/memfd.h, fcntl.h
            let file = try MemFile.memfd(size: M.page)
            let ro = open("/proc/self/fd/\(file.fd)", O_RDONLY)
            try ctx.check(ro >= 0, "reopening the memfd O_RDONLY failed: errno \(errno)")
            defer { close(ro) }
            var targets: [(String, Int32)] = [("an O_RDONLY fd of a memfd", ro)]
            var sealed: [Int32] = []
            defer { sealed.forEach { close($0) } }
            for (name, seal) in [("F_SEAL_WRITE", Int32(0x8)), ("F_SEAL_FUTURE_WRITE", Int32(0x10))] {
                let fd = ciommufd_memfd_create("swift-iommufd-sealed", mfdAllowSealing)
                try ctx.check(fd >= 0 && ftruncate(fd, off_t(M.page)) == 0, "sealable memfd: errno \(errno)")
                sealed.append(fd)
                try ctx.check(fcntl(fd, fAddSeals, seal) == 0, "F_ADD_SEALS \(name): errno \(errno)")
                targets.append(("a memfd sealed \(name)", fd))
            }
            var written: [String] = []
            for (what, fd) in targets {
                let mapped = ctx.observe {
                    try n.iommufd.fd.raw.mapFile(ioas: n.ioas.id.rawValue, file: fd, start: 0, length: UInt64(M.page),
                                                iova: M.dst, flags: M.rwFixed)
                }
                guard mapped == "OK" else { continue }
                try M.dma(ctx, path, "anon → device → \(what)", from: M.other, to: M.dst)
                var back = [UInt8](repeating: 0, count: M.length)
                _ = back.withUnsafeMutableBytes { pread(fd, $0.baseAddress, M.length, 0) }
                let landed = back.withUnsafeMutableBytes { Pattern.matches($0, seed: 81, length: M.length) }
                if landed { written.append(what) }
                try ctx.expectOK("UNMAP dst") { try n.ioas.unmap(iova: M.dst, length: UInt64(M.page)) }
            }
            ctx.observation = written.isEmpty ? "refused or not written" : "written: " + written.joined(separator: "; ")
            try ctx.check(written.isEmpty, "WRITEABLE MAP_FILE accepted and the device's write landed in the file for: "
                          + written.joined(separator: "; "))
        }
    }
}
