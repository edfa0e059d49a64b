import CIOMMUFD
import IOMMUFD
import SystemPackage

/// The kernel's generic command rules (main.c), checked per ioctl, and the
/// plain `iommufd` fixture of tools/testing/selftests/iommu (real ioctls only).
enum GenericCases {
    /// (ioctl, struct size, offsetofend of the last required field), 6.12's table.
    struct Sized: Sendable {
        let request: IoctlRequest
        let size: Int
        let minSize: Int
        let since: KernelVersion
    }

    static func sized<T>(_ r: IoctlRequest, _: T.Type, lastEnd: Int, since: KernelVersion = "6.2") -> Sized {
        Sized(request: r, size: MemoryLayout<T>.size, minSize: lastEnd, since: since)
    }

    static func end<T, F>(_ path: KeyPath<T, F>) -> Int {
        (MemoryLayout<T>.offset(of: path) ?? 0) + MemoryLayout<F>.size
    }

    static let table: [Sized] = [
        sized(.destroy, iommu_destroy.self, lastEnd: end(\iommu_destroy.id)),
        sized(.ioasAlloc, iommu_ioas_alloc.self, lastEnd: end(\iommu_ioas_alloc.out_ioas_id)),
        sized(.ioasAllowIOVAs, iommu_ioas_allow_iovas.self, lastEnd: end(\iommu_ioas_allow_iovas.allowed_iovas)),
        sized(.ioasCopy, iommu_ioas_copy.self, lastEnd: end(\iommu_ioas_copy.src_iova)),
        sized(.ioasIOVARanges, iommu_ioas_iova_ranges.self, lastEnd: end(\iommu_ioas_iova_ranges.out_iova_alignment)),
        sized(.ioasMap, iommu_ioas_map.self, lastEnd: end(\iommu_ioas_map.iova)),
        sized(.ioasUnmap, iommu_ioas_unmap.self, lastEnd: end(\iommu_ioas_unmap.length)),
        sized(.option, iommu_option.self, lastEnd: end(\iommu_option.val64)),
        sized(.vfioIOAS, iommu_vfio_ioas.self, lastEnd: end(\iommu_vfio_ioas.__reserved)),
        sized(.hwptAlloc, iommu_hwpt_alloc.self, lastEnd: end(\iommu_hwpt_alloc.__reserved), since: "6.6"),
        sized(.getHWInfo, iommu_hw_info.self, lastEnd: end(\iommu_hw_info.__reserved), since: "6.6"),
        sized(.hwptSetDirtyTracking, iommu_hwpt_set_dirty_tracking.self,
              lastEnd: end(\iommu_hwpt_set_dirty_tracking.__reserved), since: "6.7"),
        sized(.hwptGetDirtyBitmap, iommu_hwpt_get_dirty_bitmap.self,
              lastEnd: end(\iommu_hwpt_get_dirty_bitmap.data), since: "6.7"),
        sized(.hwptInvalidate, iommu_hwpt_invalidate.self, lastEnd: end(\iommu_hwpt_invalidate.__reserved), since: "6.8"),
        sized(.faultQueueAlloc, iommu_fault_alloc.self, lastEnd: end(\iommu_fault_alloc.out_fault_fd), since: "6.11"),
        // After 6.12 (7.3's main.c IOCTL_OP table). `since` is the release that added the ioctl.
        sized(.ioasMapFile, iommu_ioas_map_file.self, lastEnd: end(\iommu_ioas_map_file.iova), since: "6.13"),
        sized(.viommuAlloc, iommu_viommu_alloc.self, lastEnd: end(\iommu_viommu_alloc.out_viommu_id), since: "6.13"),
        sized(.vdeviceAlloc, iommu_vdevice_alloc.self, lastEnd: end(\iommu_vdevice_alloc.virt_id), since: "6.13"),
        sized(.ioasChangeProcess, iommu_ioas_change_process.self,
              lastEnd: end(\iommu_ioas_change_process.__reserved), since: "6.14"),
        sized(.veventqAlloc, iommu_veventq_alloc.self, lastEnd: end(\iommu_veventq_alloc.out_veventq_fd), since: "6.15"),
        sized(.hwQueueAlloc, iommu_hw_queue_alloc.self, lastEnd: end(\iommu_hw_queue_alloc.length), since: "6.17"),
        sized(.ioasNoIOMMUGetPA, iommu_ioas_noiommu_get_pa.self,
              lastEnd: end(\iommu_ioas_noiommu_get_pa.out_phys), since: "7.3"),
    ]

    static var all: [ConformanceCase] {
        table.flatMap(sizeCases) + fixedCases
    }

    static func key(_ r: IoctlRequest) -> String {
        r.name.replacingOccurrences("IOMMU_", "").lowercased()
    }

    /// Three cases per ioctl: short → EINVAL, long with a non-zero tail → E2BIG,
    /// long with a zero tail → exactly what the exact size gets.
    static func sizeCases(_ s: Sized) -> [ConformanceCase] {
        let name = key(s.request)
        return [
            ConformanceCase("generic.size.too-small.\(name)",
                            rule: "\(s.request.name) with size one below the last required field fails EINVAL",
                            since: s.since, requires: [.iommufd]) { ctx in
                let iommufd = try ctx.openIOMMUFD()
                var cmd = RawCommand(count: s.size + 8)
                cmd.set(UInt32(s.minSize - 1), at: 0)
                try ctx.expectErrno(.invalidArgument, "size \(s.minSize - 1)") {
                    try cmd.send(s.request, on: iommufd.fd)
                }
            },
            ConformanceCase("generic.size.nonzero-tail.\(name)",
                            rule: "\(s.request.name) with size past the struct and a non-zero tail fails E2BIG",
                            since: s.since, requires: [.iommufd]) { ctx in
                let iommufd = try ctx.openIOMMUFD()
                var cmd = RawCommand(count: s.size + 8)
                cmd.set(UInt32(s.size + 1), at: 0)
                cmd.bytes[s.size] = 0xff
                try ctx.expectErrno(.argListTooLong, "size \(s.size + 1), tail 0xff") {
                    try cmd.send(s.request, on: iommufd.fd)
                }
            },
            ConformanceCase("generic.size.zero-tail.\(name)",
                            rule: "\(s.request.name) with size past the struct and a zero tail acts as the exact size",
                            since: s.since, requires: [.iommufd]) { ctx in
                let iommufd = try ctx.openIOMMUFD()
                var exact = RawCommand(count: s.size + 8)
                exact.set(UInt32(s.size), at: 0)
                let exactResult = ctx.observe { try exact.send(s.request, on: iommufd.fd) }
                var long = RawCommand(count: s.size + 8)
                long.set(UInt32(s.size + 8), at: 0)
                let longResult = ctx.observe { try long.send(s.request, on: iommufd.fd) }
                try ctx.check(exactResult == longResult,
                              "exact size gave \(exactResult) but size+8 with zero tail gave \(longResult)")
                try ctx.check(longResult != "E2BIG", "a zero tail must not be E2BIG")
            },
        ]
    }

    static let fixedCases: [ConformanceCase] = [
        ConformanceCase("generic.open-close", rule: "/dev/iommu opens and closes cleanly", requires: [.iommufd]) { ctx in
            let iommufd = try ctx.openIOMMUFD()
            let result: Result<Void, IOMMUFDError>
            do throws(IOMMUFDError) { try iommufd.close(); result = .success(()) } catch { result = .failure(error) }
            try ctx.expectOK("close") { try result.get() }
        },
        ConformanceCase("generic.destroy.bad-id", rule: "DESTROY of an id that names nothing fails ENOENT",
                        requires: [.iommufd]) { ctx in
            let iommufd = try ctx.openIOMMUFD()
            try ctx.expectErrno(.noSuchFileOrDirectory, "destroy 0") {
                try iommufd.destroy(AnyObjectID(rawValue: 0))
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "destroy 0xffffffff") {
                try iommufd.destroy(AnyObjectID(rawValue: .max))
            }
        },
        ConformanceCase("generic.bad-pointer", rule: "a NULL argument pointer fails EFAULT", requires: [.iommufd]) { ctx in
            let iommufd = try ctx.openIOMMUFD()
            try ctx.expectErrno(.badAddress, "DESTROY with NULL") {
                try iommufd.fd.perform(.destroy, value: 0)
            }
        },
        ConformanceCase("generic.unknown-ioctl", rule: "an ioctl number below the iommufd table fails ENOTTY",
                        requires: [.iommufd]) { ctx in
            let iommufd = try ctx.openIOMMUFD()
            var cmd = RawCommand(count: 16)
            cmd.set(UInt32(8), at: 0)
            let below = IoctlRequest("IOMMU_CMD_BASE-1", (0x3b << 8) | 0x7f)
            try ctx.expectErrno(.inappropriateIOCTLForDevice, "ioctl 0x3b7f") {
                try cmd.send(below, on: iommufd.fd)
            }
            let above = IoctlRequest("past HW_QUEUE_ALLOC", (0x3b << 8) | 0x9f)
            try ctx.expectErrno(.inappropriateIOCTLForDevice, "ioctl 0x3b9f") {
                try cmd.send(above, on: iommufd.fd)
            }
        },
        ConformanceCase("generic.extended-destroy",
                        rule: "a longer DESTROY with a zero tail is read; a non-zero tail is E2BIG; one byte short is EINVAL",
                        requires: [.iommufd]) { ctx in
            let iommufd = try ctx.openIOMMUFD()
            var cmd = RawCommand(count: 16)
            cmd.set(UInt32(16), at: 0)
            try ctx.expectErrno(.noSuchFileOrDirectory, "size 16, id 0") {
                try cmd.send(.destroy, on: iommufd.fd)
            }
            cmd.set(UInt64(1), at: 8)
            try ctx.expectErrno(.argListTooLong, "size 16, future field 1") {
                try cmd.send(.destroy, on: iommufd.fd)
            }
            cmd.set(UInt32(8), at: 0)
            try ctx.expectErrno(.noSuchFileOrDirectory, "size 8") {
                try cmd.send(.destroy, on: iommufd.fd)
            }
            cmd.set(UInt32(7), at: 0)
            try ctx.expectErrno(.invalidArgument, "size 7") {
                try cmd.send(.destroy, on: iommufd.fd)
            }
        },
        ConformanceCase("generic.option.rlimit-mode", rule: "RLIMIT_MODE reads 0, accepts 1 and 0 from root, rejects 2 with EINVAL",
                        requires: [.iommufd, .root]) { ctx in
            let iommufd = try ctx.openIOMMUFD()
            try ctx.checkEqual(try ctx.expectOK("get") { try iommufd.rlimitMode() }, .user, "initial mode")
            try ctx.expectOK("set 1") { try iommufd.setRlimitMode(.process) }
            try ctx.expectErrno(.invalidArgument, "set 2") {
                try iommufd.fd.raw.option(UInt32(IOMMU_OPTION_RLIMIT_MODE.rawValue), set: 2)
            }
            try ctx.checkEqual(try ctx.expectOK("get") { try iommufd.rlimitMode() }, .process, "mode after set")
            try ctx.expectOK("set 0") { try iommufd.setRlimitMode(.user) }
        },
        ConformanceCase("generic.option.rlimit-object-id", rule: "RLIMIT_MODE with an object id fails EOPNOTSUPP",
                        requires: [.iommufd]) { ctx in
            let iommufd = try ctx.openIOMMUFD()
            try ctx.expectErrno(.notSupported, "get with object_id 1") {
                try iommufd.fd.raw.option(UInt32(IOMMU_OPTION_RLIMIT_MODE.rawValue), object: 1)
            }
        },
        ConformanceCase("generic.option.rlimit-busy", rule: "RLIMIT_MODE cannot change while objects exist (EBUSY)",
                        requires: [.iommufd, .root]) { ctx in
            let iommufd = try ctx.openIOMMUFD()
            let ioas = try ctx.expectOK("alloc IOAS") { try iommufd.allocIOAS() }
            try ctx.expectErrno(.resourceBusy, "set 1 with an IOAS") {
                try iommufd.setRlimitMode(.process)
            }
            _ = consume ioas
        },
        ConformanceCase("generic.option.huge-pages-needs-object", rule: "HUGE_PAGES without an IOAS id fails ENOENT",
                        requires: [.iommufd]) { ctx in
            let iommufd = try ctx.openIOMMUFD()
            try ctx.expectErrno(.noSuchFileOrDirectory, "get, object 0") {
                try iommufd.fd.raw.option(UInt32(IOMMU_OPTION_HUGE_PAGES.rawValue))
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "set, object 0") {
                try iommufd.fd.raw.option(UInt32(IOMMU_OPTION_HUGE_PAGES.rawValue), set: 1)
            }
        },
        ConformanceCase("generic.option.unknown", rule: "an unknown option id fails EOPNOTSUPP", requires: [.iommufd]) { ctx in
            let iommufd = try ctx.openIOMMUFD()
            try ctx.expectErrno(.notSupported, "option 99") {
                try iommufd.fd.raw.option(99)
            }
        },
    ]
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound] + replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
