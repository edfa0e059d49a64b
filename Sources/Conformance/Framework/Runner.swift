import Foundation
import Glibc

/// Runs cases the way kselftest does: each in a forked child with a timeout, so a
/// crash, a hang or a leaked descriptor in one case cannot touch the next.
public struct Runner {
    public let machine: Machine
    public let timeoutSeconds: Int
    /// The profile name recorded in results: the IOMMU profile, or e.g. "intel-6.1"
    /// when the main job runs it on a second kernel. Cases still see machine.profile.
    public let label: String

    public init(machine: Machine, timeoutSeconds: Int = 60, label: String? = nil) {
        self.machine = machine
        self.timeoutSeconds = timeoutSeconds
        self.label = label ?? machine.profile
    }

    /// Why `c` cannot run here, or nil when it can.
    public func skipReason(_ c: ConformanceCase) -> String? {
        if machine.kernel < c.since { return "\(CaseResult.versionSkipPrefix)\(c.since), running \(machine.kernel)" }
        for r in Requirement.allCases where c.requires.contains(r) {
            if let missing = machine.missing(r) { return missing }
        }
        return nil
    }

    public func run(_ c: ConformanceCase) -> CaseResult {
        let start = ContinuousClock.now
        func result(_ s: CaseResult.Status, _ reason: String, _ observed: String? = nil,
                    _ trail: [String]? = nil) -> CaseResult {
            let ms = Int((ContinuousClock.now - start) / .milliseconds(1))
            return CaseResult(id: c.id, profile: label, mode: c.mode, status: s, reason: reason, ms: ms,
                              observed: observed, kernel: machine.kernelRelease, trail: trail)
        }
        if let why = skipReason(c) { return result(.skip, why) }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return result(.fail, "pipe failed: errno \(errno)") }
        let pid = fork()
        if pid == 0 {
            close(fds[0])
            let bytes = Self.runInChild(c, machine: machine)
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                sent += n
            }
            _exit(0)
        }
        close(fds[1])
        defer { close(fds[0]) }
        guard pid > 0 else { return result(.fail, "fork failed: errno \(errno)") }
        let (output, timedOut) = readAll(fds[0], timeoutSeconds: timeoutSeconds)
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        if timedOut { return result(.fail, "timed out after \(timeoutSeconds) s") }
        let signal = status & 0x7f
        if signal != 0 { return result(.fail, "case process killed by signal \(signal) (crash)") }
        guard let child = try? JSONDecoder().decode(ChildOutcome.self, from: Data(output.utf8)) else {
            return result(.fail, "case process exited without a result (status \(status))")
        }
        return result(child.status, child.reason, child.observed, child.trail.isEmpty ? nil : child.trail)
    }

    /// What the forked child sends back over the pipe, as JSON.
    struct ChildOutcome: Codable {
        var status: CaseResult.Status
        var reason: String
        var observed: String?
        var trail: [String]
    }

    /// Runs the body and encodes its outcome as JSON.
    static func runInChild(_ c: ConformanceCase, machine: Machine) -> [UInt8] {
        let context = CaseContext(machine: machine)
        let status: CaseResult.Status
        var reason: String
        do {
            try c.body(context)
            if context.assertions == 0 {
                status = .fail
                reason = "case made no assertion on what the kernel returned (\(context.setupSteps) setup steps do not count)"
            } else {
                status = .pass; reason = "\(context.assertions) assertions, \(context.setupSteps) setup steps"
            }
        } catch let skip as CaseSkip {
            status = .skip; reason = skip.reason
        } catch {
            status = .fail; reason = "\(error)"
        }
        let outcome = ChildOutcome(status: status, reason: reason.replacingAll("\n", with: " "),
                                   observed: context.observation, trail: context.trail)
        return Array((try? JSONEncoder().encode(outcome)) ?? Data(#"{"status":"fail","reason":"result not encodable","trail":[]}"#.utf8))
    }

    private func readAll(_ fd: Int32, timeoutSeconds: Int) -> (String, Bool) {
        var bytes: [UInt8] = []
        let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline - ContinuousClock.now
            if left <= .zero { return (String(decoding: bytes, as: UTF8.self), true) }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(min(left / .milliseconds(1), 1000))
            let ready = poll(&p, 1, max(ms, 1))
            if ready == 0 { continue }
            if ready < 0 { if errno == EINTR { continue }; break }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return (String(decoding: bytes, as: UTF8.self), false)
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for ch in self { if ch == target { out += replacement } else { out.append(ch) } }
        return out
    }
}
