// IOMMU_IOAS_MAP_FILE's refusals, row by row from the 7.3.4 source, and what happens
// when no domain pins the file at MAP time (the checks on the file move to ATTACH).
import Glibc
import IOMMUFD
import SystemPackage
import VFIO

extension MapFileCases {
    /// With the edu attached, MAP_FILE pins at once, so the file checks of memfd_pin_folios answer too.
    static var errors: ConformanceCase {
        ConformanceCase("map-file.errors",
                        rule: "MAP_FILE refuses, with the source's errno, bad flags, overflowing or zero lengths, a bad IOAS or fd, a non-shmem file, a range past EOF, misalignment, reserved and already-mapped IOVAs",
                        since: "6.13", requires: M.requirements(), mode: "native") { ctx in
            let (path, n) = try M.nativePath(ctx)
            // The attached edu is what makes MAP_FILE pin at once: keep it open to the end.
            defer { withExtendedLifetime(path) {} }
            let kfd = n.iommufd.fd
            let ioas = n.ioas.id.rawValue
            let file = try MemFile.memfd(size: 2 * M.page)
            let pg = UInt64(M.page)
            func row(_ errno: Errno, _ what: String, fd: Int32? = nil, start: UInt64 = 0, length: UInt64? = nil,
                     iova: UInt64 = M.src, flags: UInt32 = M.rwFixed, ioasID: UInt32? = nil) throws {
                try ctx.expectErrno(errno, what) {
                    try kfd.raw.mapFile(ioas: ioasID ?? ioas, file: fd ?? file.fd, start: start, length: length ?? pg,
                                       iova: iova, flags: flags)
                }
            }
            let ranges = try ctx.expectOK("IOVA_RANGES") { try n.ioas.iovaRanges() }
            try ctx.checkEqual(ranges.alignment, pg, "IOAS alignment with the edu attached")

            // ioas.c iommufd_ioas_map_file, in order.
            try row(.notSupported, "unknown flag bit 3 (ioas.c:212-215)", flags: M.rwFixed | (1 << 3))
            try row(.overflow, "length = 2^64-1 (ioas.c:217-218)", length: .max)
            try row(.overflow, "iova = 2^64-1 (ioas.c:217-218)", iova: .max)
            try row(.invalidArgument, "flags FIXED_IOVA only, neither READ nor WRITE (ioas.c:220-222)", flags: M.fixed)
            try row(.noSuchFileOrDirectory, "ioas_id that names no object (ioas.c:224-226)", ioasID: 0xffff)
            try row(.noSuchFileOrDirectory, "ioas_id naming the device, not an IOAS (ioas.c:224-226)",
                    ioasID: n.deviceID.rawValue)
            // io_pagetable.c iopt_map_file_pages.
            try row(.invalidArgument, "length 0 (io_pagetable.c:492-493)", length: 0)
            try row(.overflow, "start + length - 1 wraps (io_pagetable.c:494-495)", start: .max - pg + 1, length: 2 * pg)
            try row(.badFileDescriptor, "fd -1 (io_pagetable.c:514-516, fget)", fd: -1)
            let closed = dup(file.fd)
            close(closed)
            try row(.badFileDescriptor, "a closed fd number (fget)", fd: closed)
            let pathFD = open("/proc/self/fd/\(file.fd)", 0o10_000_000 /* O_PATH */)
            try ctx.check(pathFD >= 0, "open(O_PATH) of the memfd failed: errno \(errno)")
            defer { close(pathFD) }
            try row(.badFileDescriptor, "an O_PATH fd of the memfd (fget refuses FMODE_PATH, fs/file.c:1111-1113)", fd: pathFD)
            // mm/gup.c memfd_pin_folios, reached because the attached domain pins at MAP time.
            let devNull = open("/dev/null", O_RDWR)
            try ctx.check(devNull >= 0, "open /dev/null failed: errno \(errno)")
            defer { close(devNull) }
            try row(.invalidArgument, "/dev/null: neither shmem nor hugetlbfs (mm/gup.c:3454-3455)", fd: devNull)
            try row(.invalidArgument, "start 4096 + length 8192 past the 8 KiB file's end (mm/gup.c:3457-3458)",
                    start: pg, length: 2 * pg)
            try row(.invalidArgument, "start = file size (mm/gup.c:3457-3458)", start: 2 * pg)
            let empty = try MemFile.memfd(size: 0)
            try row(.invalidArgument, "a memfd truncated to 0 bytes (mm/gup.c:3457-3458)", fd: empty.fd)
            // io_pagetable.c iopt_alloc_area_pages: the IOAS alignment is PAGE_SIZE with a real domain.
            try row(.invalidArgument, "length 2048, not a multiple of the IOAS alignment (io_pagetable.c:273)", length: pg / 2)
            try row(.invalidArgument, "fixed IOVA not aligned (io_pagetable.c:190)", iova: M.src + pg / 2)
            try row(.invalidArgument, "start 2048: page offset not aligned, fixed IOVA (io_pagetable.c:220-222)", start: pg / 2)
            try row(.invalidArgument, "start 2048: page offset not aligned, kernel-chosen IOVA (io_pagetable.c:153)",
                    start: pg / 2, iova: 0, flags: M.read | M.write)
            if ranges.ranges.count > 1, let first = ranges.ranges.first {
                try row(.invalidArgument, "fixed IOVA in the reserved hole after \(first) (io_pagetable.c:197)",
                        iova: first.last + 1)
            }
            // Overlaps.
            try ctx.expectOK("MAP_FILE page 0 at src") {
                try kfd.raw.mapFile(ioas: ioas, file: file.fd, start: 0, length: pg, iova: M.src, flags: M.rwFixed)
            }
            try row(.fileExists, "page 1 at the same IOVA (io_pagetable.c:201-202)", start: pg)
            try row(.fileExists, "two pages starting one page below (io_pagetable.c:201-202)", length: 2 * pg, iova: M.src - pg)
            try row(.fileExists, "page 0 again at the same IOVA, READABLE only (io_pagetable.c:201-202)",
                    flags: M.read | M.fixed)
            // Nothing the refusals touched stays mapped: only the one page.
            try ctx.checkEqual(try ctx.expectOK("UNMAP all") { try n.ioas.unmapAll() },
                               pg, "bytes unmapped after the refusals")
        }
    }

    /// Without a domain nothing is pinned at MAP time (io_pagetable.c:377 iopt_fill_domains_pages
    /// has no domain to fill), so MAP_FILE takes a file it cannot pin; ATTACH then fails.
    static var noDomain: ConformanceCase {
        ConformanceCase("map-file.no-domain",
                        rule: "on an IOAS with no device, MAP_FILE of /dev/null or past EOF succeeds (pinning is deferred); attaching a device then fails EINVAL, and after UNMAP it attaches and DMAs",
                        since: "6.13", requires: M.requirements(), mode: "native") { ctx in
            let pci = try DMACases.firstEdu(ctx)
            guard let cdev = pci.vfioCdevPath else { try ctx.skip("\(pci.address) has no VFIO cdev") }
            let iommufd = try ctx.openIOMMUFD()
            let device = try ctx.expectOK("open \(cdev)") { try VFIODevice.openCdev(cdev) }
            let id = try ctx.expectOK("BIND") { try device.bind(iommufd: iommufd) }
            let ioas = try ctx.expectOK("IOAS_ALLOC") { try iommufd.allocIOAS() }
            let file = try MemFile.memfd(size: 2 * M.page)
            let pg = UInt64(M.page)
            let devNull = open("/dev/null", O_RDWR)
            try ctx.check(devNull >= 0, "open /dev/null failed: errno \(errno)")
            defer { close(devNull) }

            try ctx.expectOK("MAP_FILE /dev/null, no domain") {
                try ioas.fd.raw.mapFile(ioas: ioas.id.rawValue, file: devNull, start: 0, length: pg, iova: M.src, flags: M.rwFixed)
            }
            try ctx.expectErrno(.invalidArgument, "ATTACH with /dev/null mapped (pin at attach: mm/gup.c:3454)") {
                try device.attach(ioas.id)
            }
            try ctx.checkEqual(try ctx.expectOK("UNMAP all") { try ioas.unmapAll() }, pg,
                               "bytes unmapped (the /dev/null area)")
            try ctx.expectOK("MAP_FILE start 4096 length 8192 of an 8 KiB memfd, no domain") {
                try ioas.fd.raw.mapFile(ioas: ioas.id.rawValue, file: file.fd, start: pg, length: 2 * pg, iova: M.src, flags: M.rwFixed)
            }
            try ctx.expectErrno(.invalidArgument, "ATTACH with a past-EOF range mapped (mm/gup.c:3457)") {
                try device.attach(ioas.id)
            }
            try ctx.expectOK("UNMAP all") { try ioas.unmapAll() }
            try ctx.expectOK("MAP_FILE page 0 of the memfd, no domain") {
                try ioas.mapFile(file.descriptor, start: 0, length: pg, at: M.src)
            }
            let hwpt = try ctx.expectOK("ATTACH once only a valid file range is mapped") {
                try device.attach(ioas.id)
            }
            let path = try DMAPath(mode: .native, pci: pci, device: device,
                                   backend: .native(DMAPath.NativeSetup(iommufd: iommufd, ioas: ioas, deviceID: id, hwpt: hwpt)))
            let cpu = try file.view()
            let anon = try DMABuffer(size: M.page)
            Pattern.fill(cpu.bytes, seed: 61, length: M.length)
            try ctx.expectOK("MAP anon buffer") { try path.map(anon, length: M.page, iova: M.other) }
            try M.dma(ctx, path, "file page pinned at ATTACH → device → anon", from: M.src, to: M.other)
            try ctx.check(anon.matchesPattern(seed: 61, length: M.length), "the page pinned at ATTACH does not hold the file's bytes")
        }
    }

    /// The selftest's test_basic_file and all_aligns (file variant) against a mock domain, whose
    /// 2 KiB IO pages (selftest.c MOCK_IO_PAGE_SIZE) allow a start that is not page aligned.
    static var mockDomain: ConformanceCase {
        ConformanceCase("map-file.mock-domain",
                        rule: "against a mock domain, MAP_FILE maps the file's pages (MD_CHECK_MAP), takes a 2 KiB-aligned start, and refuses a range past EOF or a truncated file with EINVAL",
                        since: "6.13", requires: [.iommufd, .testModule]) { ctx in
            try requireMockDevices(ctx)
            let iommufd = try ctx.openIOMMUFD()
            let kfd = iommufd.fd
            let test = iommufd.testCommands
            let ioas = try ctx.expectOK("IOAS_ALLOC") { try kfd.raw.allocIOAS() }
            let mock = try ctx.expectOK("MOCK_DOMAIN") { try test.mockDomain(IOASID(rawValue: ioas)) }
            let pg = UInt64(M.page)
            let file = try MemFile.memfd(size: 4 * M.page)
            let cpu = try file.view()
            for i in 0..<cpu.bytes.count { cpu.bytes[i] = UInt8(truncatingIfNeeded: i &* 7 &+ 3) }
            let iova = try ctx.expectOK("MAP_FILE page 0") {
                try kfd.raw.mapFile(ioas: ioas, file: file.fd, start: 0, length: pg, flags: M.read | M.write)
            }
            try ctx.expectOK("MD_CHECK_MAP page 0 against the memfd's mmap") {
                try test.checkMap(mock.hwptID, iova: iova, length: pg, userVA: cpu.va)
            }
            let odd = try ctx.expectOK("MAP_FILE start 2048 length 8192") {
                try kfd.raw.mapFile(ioas: ioas, file: file.fd, start: pg / 2, length: 2 * pg, flags: M.read | M.write)
            }
            try ctx.check(odd % pg == pg / 2, "kernel-chosen IOVA 0x\(String(odd, radix: 16)) does not keep start's page offset 0x800")
            try ctx.expectOK("MD_CHECK_MAP the 2 KiB-offset mapping") {
                try test.checkMap(mock.hwptID, iova: odd, length: 2 * pg, userVA: cpu.va + pg / 2)
            }
            try ctx.expectErrno(.invalidArgument, "length one byte past EOF (mm/gup.c:3457)") {
                try kfd.raw.mapFile(ioas: ioas, file: file.fd, start: 0, length: 4 * pg + 1, flags: M.read | M.write)
            }
            let small = try MemFile.memfd(size: 2 * M.page)
            try ctx.check(ftruncate(small.fd, 0) == 0, "ftruncate to 0 failed: errno \(errno)")
            try ctx.expectErrno(.invalidArgument, "a memfd truncated to 0 (mm/gup.c:3457)") {
                try kfd.raw.mapFile(ioas: ioas, file: small.fd, start: 0, length: 2 * pg, flags: M.read | M.write)
            }
            try ctx.expectOK("UNMAP all") { try kfd.raw.unmap(ioas: ioas, iova: 0, length: .max) }
            _ = consume iommufd
        }
    }
}
