// Fault injection like tools/testing/selftests/iommu/iommufd_fail_nth.c: for N = 1, 2, ...
// make the Nth fault-injection point of this task fail (/proc/thread-self/fail-nth) while a
// sequence of iommufd calls runs. Every failure must come back as a kernel error (never a
// crash or hang), the teardown must leave no page pinned (MD_CHECK_REFS 0), and the sweep
// stops at the first N where nothing was injected. The sweep runs in the case's own
// (already forked) process, like the selftest: a fork per N would make COW page faults of
// the child eat the injections before the ioctls see them.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage
import VFIO

enum FailNthCases {
    /// Safety stops only: like the kernel's own sweep, a sweep must run to completion (the
    /// first N that injects nothing); reaching either limit fails the case. Measured: at most
    /// 302 iterations and 1.5 s on any profile and kernel.
    static let maxIterations = 2000
    static let budget: Duration = .seconds(90)

    /// iommufd_fail_nth.c's constructor: let every allocation be injected and keep the log quiet.
    static func setupDebugfs() throws {
        func put(_ path: String, _ value: String) -> Bool {
            let fd = open(path, O_WRONLY)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            return value.withCString { write(fd, $0, strlen($0)) } == value.utf8.count
        }
        guard put("/sys/kernel/debug/failslab/ignore-gfp-wait", "N") else {
            throw CaseSkip("cannot write /sys/kernel/debug/failslab/ignore-gfp-wait (no FAILSLAB debugfs)")
        }
        _ = put("/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N")
        _ = put("/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N")
        for name in Sysfs.list("/sys/kernel/debug") where name.hasPrefix("fail") {
            _ = put("/sys/kernel/debug/\(name)/verbose", "0")
        }
    }

    /// The sequence's view of fail-nth: `enable()` arms injection at the point the selftest does.
    final class Nth {
        let fd: Int32
        var n = 0
        /// Whether the last armed window saw its injection fire (set by sequences that disarm themselves).
        var fired = false
        init() throws {
            fd = open("/proc/thread-self/fail-nth", O_RDWR)
            if fd < 0 { throw CaseSkip("no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION)") }
        }
        func enable() {
            guard n > 0 else { return }
            let s = String(n)
            _ = s.withCString { pwrite(fd, $0, strlen($0), 0) }
        }
        /// Disarms; returns whether the injection fired (the kernel counts down to 0 when it does).
        func disarm() -> Bool {
            var buf = [UInt8](repeating: 0, count: 32)
            var r = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 32, 0) }
            if r < 0 && errno == EFAULT { buf[0] = UInt8(ascii: "1"); r = 2 }
            var w = "0".withCString { pwrite(fd, $0, 1, 0) }
            if w < 0 && errno == EFAULT { w = "0".withCString { pwrite(fd, $0, 1, 0) }; buf[0] = UInt8(ascii: "1") }
            let text = String(decoding: buf.prefix(max(r, 0)), as: UTF8.self)
            return text.hasPrefix("0")
        }
        deinit { close(fd) }
    }

    /// What a sequence runs against: the selftest's 2 MiB anonymous buffer, a 2 MiB memfd
    /// (its mfd, for MAP_FILE) and the kernel, whose selftest version the sequence follows.
    struct Inputs {
        let buffer: MBuf
        let memfd: Int32
        let kernel: KernelVersion
    }

    /// One run of a sequence (FailNthSequences.swift). Returns nil when every step
    /// succeeded, else the failing step's error.
    typealias Sequence = @Sendable (Nth, Inputs) -> IOMMUFDError?

    /// What a sweep saw: how far it got and which errno each injected run ended with.
    struct Sweep {
        var iterations = 1
        var finished = false
        var histogram: [String: Int] = [:]
        var summary: String { histogram.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }

        /// The case's verdict: injection reached something, and some injected failure surfaced.
        func check(_ ctx: CaseContext) throws {
            ctx.observation = "\(finished ? "complete" : "stopped") after \(iterations) iterations: \(summary)"
            try ctx.check(finished, "the sweep stopped at \(iterations) iterations (limit \(maxIterations) or \(budget)) before an N that injects nothing: not complete")
            try ctx.check(iterations > 1, "no injection point was reached at all (N=1 did not fire)")
            try ctx.check(histogram.keys.contains { $0 != "OK" }, "no injected failure surfaced as an error: \(summary)")
        }
    }

    /// The fail-nth loop for N = 1, 2, ...: `attempt` runs the sequence with `nth.n` set and
    /// returns its error and whether the injection fired; `afterEach` checks the teardown.
    /// Stops at the first N that injects nothing (complete), or at `maxIterations` / `budget`
    /// (incomplete, which `Sweep.check` fails).
    static func sweep(_ nth: Nth, attempt: () -> (IOMMUFDError?, fired: Bool),
                      afterEach: (Int) throws -> Void = { _ in }) throws -> Sweep {
        var result = Sweep()
        let start = ContinuousClock.now
        while result.iterations <= maxIterations {
            let n = result.iterations
            nth.n = n
            let (error, fired) = attempt()
            if let error {
                if error.origin == .validation { throw CaseFailure("N=\(n): the library, not the kernel, failed: \(error)") }
                result.histogram[IOMMUFDError.symbol(error.errno), default: 0] += 1
            } else {
                result.histogram["OK", default: 0] += 1
            }
            try afterEach(n)
            if !fired {
                if let error { throw CaseFailure("N=\(n): nothing injected, yet the sequence failed: \(error)") }
                result.finished = true
                break
            }
            if ContinuousClock.now - start > budget { break }
            result.iterations += 1
        }
        return result
    }

    static var all: [ConformanceCase] {
        sequences.map { (name, since, seq) in
            ConformanceCase("failnth.sweep", rule: "with the Nth allocation/injection point failing, every N, the \(name) sequence fails cleanly with an errno and leaves no pinned page",
                            since: since, requires: [.iommufd, .testModule, .failNth, .root], mode: name) { ctx in
                if !["basic", "access_rw", "access_pin"].contains(name) { try requireMockDevices(ctx) }
                try setupDebugfs()
                let buf = try needBuffer(2 << 20)
                buf.fill()
                let file = try MemFile.memfd(size: 2 << 20)
                let inputs = Inputs(buffer: buf, memfd: file.fd, kernel: ctx.kernel)
                let nth = try Nth()
                let checker = try ctx.openIOMMUFD()
                let test = checker.testCommands
                defer { _ = try? test.setTempMemoryLimit(MS.defaultMemoryLimit) }
                func refsClean(_ what: String) throws {
                    do throws(IOMMUFDError) {
                        try test.checkRefs(userVA: buf.va, length: UInt64(buf.count), refs: 0)
                    } catch { throw CaseFailure("\(what): pages still pinned after teardown (MD_CHECK_REFS: \(error))") }
                }
                // Iteration 0: the clean sequence must succeed.
                if let e = seq(nth, inputs) { throw CaseFailure("clean run of \(name) failed: \(e)") }
                _ = test.setTempMemoryLimitQuiet(MS.defaultMemoryLimit)
                try refsClean("clean run")
                let result = try sweep(nth, attempt: {
                    let err = seq(nth, inputs)
                    let fired = nth.disarm()
                    _ = test.setTempMemoryLimitQuiet(MS.defaultMemoryLimit)
                    return (err, fired)
                }, afterEach: { n in try refsClean("N=\(n)") })
                // A fresh clean run still works after the sweep.
                if let e = seq(nth, inputs) { throw CaseFailure("clean run after the sweep failed: \(e)") }
                _ = test.setTempMemoryLimitQuiet(MS.defaultMemoryLimit)
                try refsClean("final clean run")
                try result.check(ctx)
                _ = consume checker
                withExtendedLifetime(file) {}
            }
        }
    }
}

extension TestCommands {
    func setTempMemoryLimitQuiet(_ limit: UInt32) -> Bool {
        do { try setTempMemoryLimit(limit); return true } catch { return false }
    }
}
