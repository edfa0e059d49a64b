// Non-root use of /dev/iommu: the case starts as root and drops to nobody (65534) in a
// forked child. Device nodes for the permission checks are private copies (mknod in /tmp),
// so the real /dev/iommu's mode is never changed.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

enum PrivilegeCases {
    static let nobody: UInt32 = 65534

    /// Drops every privilege of this process (supplementary groups, gid, uid).
    static func dropPrivileges() -> String? {
        if setgroups(0, nil) != 0 { return "setgroups: errno \(errno)" }
        if setgid(nobody) != 0 { return "setgid: errno \(errno)" }
        if setuid(nobody) != 0 { return "setuid: errno \(errno)" }
        if geteuid() != nobody { return "still euid \(geteuid())" }
        return nil
    }

    /// A private character node for /dev/iommu with `mode`; removed by the caller.
    static func privateNode(mode: mode_t) throws -> String {
        var st = stat()
        guard stat("/dev/iommu", &st) == 0 else { throw CaseFailure("stat /dev/iommu: errno \(errno)") }
        let path = "/tmp/iommu-priv-\(getpid())-\(mode)"
        unlink(path)
        guard mknod(path, S_IFCHR | mode, st.st_rdev) == 0 else { throw CaseSkip("mknod in /tmp failed: errno \(errno)") }
        chmod(path, mode)
        return path
    }

    /// Pins through a test access (ACCESS_PAGES), which charges pinned pages the same way a
    /// domain does (pages.c do_update_pinned) and works with any IOMMU.
    static func memlockCase(_ mode: RlimitMode) -> ConformanceCase {
        ConformanceCase("priv.memlock", rule: "as nobody, pinning past RLIMIT_MEMLOCK fails ENOMEM; within it succeeds (\(mode == .user ? "per-user" : "per-process") accounting)",
                        requires: [.iommufd, .testModule, .root], mode: mode == .user ? "user" : "process") { ctx in
            let iommufd = try ctx.openIOMMUFD()
            let fd = iommufd.fd
            let test = iommufd.testCommands
            try ctx.step("RLIMIT_MODE \(mode)") { try iommufd.setRlimitMode(mode) }
            let ioas = try ctx.step("IOAS_ALLOC") { try fd.raw.allocIOAS() }
            let access = try ctx.step("CREATE_ACCESS (pins)") {
                try test.createAccess(IOASID(rawValue: ioas), flags: .needsPinPages)
            }
            let accessID = access.id
            let limit = 64 << 10
            let child = inChild { () -> String in
                if let why = dropPrivileges() { return "DROP:\(why)" }
                var rl = rlimit(rlim_cur: rlim_t(limit), rlim_max: rlim_t(limit))
                if setrlimit(__rlimit_resource_t(8) /* RLIMIT_MEMLOCK */, &rl) != 0 { return "RLIMIT:\(errno)" }
                guard let big = MBuf.make(1 << 20), let small = MBuf.make(16 << 10) else { return "MMAP" }
                big.fill(); small.fill()
                let over = outcome {
                    let iova = try fd.raw.map(ioas: ioas, userVA: big.va, length: UInt64(big.count))
                    _ = try test.accessPages(accessID, iova: iova, length: UInt64(big.count), userVA: big.va)
                }
                let within = outcome {
                    let iova = try fd.raw.map(ioas: ioas, userVA: small.va, length: UInt64(small.count))
                    _ = try test.accessPages(accessID, iova: iova, length: UInt64(small.count), userVA: small.va)
                }
                return "\(over) \(within)"
            }
            try ctx.check(!child.output.hasPrefix("DROP") && !child.output.hasPrefix("RLIMIT") && child.output != "MMAP",
                          "child setup failed: \(child.output)")
            let parts = child.output.split(separator: " ").map(String.init)
            try ctx.checkEqual(parts.first ?? "", "ENOMEM", "pin 1 MiB with RLIMIT_MEMLOCK 64 KiB")
            try ctx.checkEqual(parts.count > 1 ? parts[1] : "", "OK", "pin 16 KiB with RLIMIT_MEMLOCK 64 KiB")
            _ = consume access
            _ = consume iommufd
        }
    }

    static var all: [ConformanceCase] {
        [
            ConformanceCase("priv.open-eacces", rule: "without permission on the node, opening /dev/iommu fails EACCES and the error says so",
                            requires: [.iommufd, .root]) { ctx in
                let path = try privateNode(mode: 0o600)
                defer { unlink(path) }
                let child = inChild { () -> String in
                    if let why = dropPrivileges() { return "DROP:\(why)" }
                    do throws(IOMMUFDError) {
                        let f = try IOMMUFD.open(path)
                        _ = consume f
                        return "OK"
                    } catch {
                        return "\(IOMMUFDError.symbol(error.errno))|\(error.meaning)"
                    }
                }
                let parts = child.output.split(separator: "|", maxSplits: 1).map(String.init)
                try ctx.checkEqual(parts.first ?? "", "EACCES", "open as nobody")
                try ctx.check(parts.count > 1 && parts[1].contains("permission"), "error does not explain the permission problem: \(child.output)")
            },
            ConformanceCase("priv.open-granted", rule: "with permission on the node, nobody can open /dev/iommu, allocate an IOAS and map memory",
                            requires: [.iommufd, .root]) { ctx in
                let path = try privateNode(mode: 0o666)
                defer { unlink(path) }
                let child = inChild { () -> String in
                    if let why = dropPrivileges() { return "DROP:\(why)" }
                    let f: IOMMUFD
                    do throws(IOMMUFDError) { f = try IOMMUFD.open(path) } catch { return "open:\(IOMMUFDError.symbol(error.errno))" }
                    guard let b = MBuf.make(Int(MS.page) * 4) else { return "MMAP" }
                    let fd = f.fd
                    return outcome {
                        let ioas = try fd.raw.allocIOAS()
                        try fd.raw.map(ioas: ioas, userVA: b.va, length: UInt64(b.count))
                        try fd.raw.unmap(ioas: ioas, iova: 0, length: .max)
                    }
                }
                try ctx.checkEqual(child.output, "OK", "alloc + map + unmap as nobody")
            },
            ConformanceCase("priv.rlimit-mode-eperm", rule: "without CAP_SYS_RESOURCE, setting RLIMIT_MODE fails EPERM; reading it works",
                            requires: [.iommufd, .root]) { ctx in
                let path = try privateNode(mode: 0o666)
                defer { unlink(path) }
                let child = inChild { () -> String in
                    if let why = dropPrivileges() { return "DROP:\(why)" }
                    let f: IOMMUFD
                    do throws(IOMMUFDError) { f = try IOMMUFD.open(path) } catch { return "open:\(IOMMUFDError.symbol(error.errno))" }
                    let fd = f.fd
                    let opt = UInt32(IOMMU_OPTION_RLIMIT_MODE.rawValue)
                    let get = outcome { try fd.raw.option(opt) }
                    let set1 = outcome { try fd.raw.option(opt, set: 1) }
                    let set0 = outcome { try fd.raw.option(opt, set: 0) }
                    _ = consume f
                    return "\(get) \(set1) \(set0)"
                }
                try ctx.checkEqual(child.output, "OK EPERM EPERM", "get, set 1, set 0 as nobody")
            },
            memlockCase(.user),
            memlockCase(.process),
        ]
    }
}
