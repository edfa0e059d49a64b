import IOMMUFD
import SystemPackage

/// What a running case sees: the machine, and the expectation helpers that count assertions.
public final class CaseContext {
    public let machine: Machine
    /// Checks of the behaviour under test made so far; a case that makes none cannot pass.
    public private(set) var assertions = 0
    /// Setup steps run so far (`setup`): they must succeed, but they are not the behaviour
    /// under test, so they do not count as assertions.
    public private(set) var setupSteps = 0
    /// What the kernel did, for the differential table (e.g. "ENOENT").
    public var observation: String?
    /// What each expectation saw, in order: the kernel-diff table compares it across kernels.
    public private(set) var trail: [String] = []

    public init(machine: Machine) { self.machine = machine }

    public var profile: String { machine.profile }
    public var kernel: KernelVersion { machine.kernel }

    /// Opens /dev/iommu; failure fails the case.
    public func openIOMMUFD() throws -> IOMMUFD {
        do { return try IOMMUFD.open() } catch { throw CaseFailure("open /dev/iommu: \(error)") }
    }

    /// Fails the case unless `condition` holds.
    public func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        assertions += 1
        if !condition { throw CaseFailure(message()) }
    }

    /// Fails unless two values are equal.
    public func checkEqual<T: Equatable>(_ actual: T, _ expected: T, _ what: String) throws {
        trail.append("\(what): \(actual)")
        try check(actual == expected, "\(what): got \(actual), expected \(expected)")
    }

    /// The expectation for this kernel when the uAPI changed: `old` before `version`, `new` from it on.
    /// Both answers are written down, so a kernel that gives the other one fails.
    public func byKernel<T>(_ old: T, from version: KernelVersion, _ new: T) -> T {
        kernel < version ? old : new
    }

    // The bodies below are untyped (`() throws -> T`) so case closures need no
    // `throws(IOMMUFDError)` annotation: Swift 6 infers `any Error` for a closure's throws.
    // An IOMMUFDError is judged; any other error (CaseFailure, CaseSkip) passes through.

    /// Runs `body`, which must succeed; returns its value. An assertion: the success
    /// itself is what the case checks.
    @discardableResult
    public func expectOK<T: ~Copyable>(_ what: String, _ body: () throws -> T) throws -> T {
        assertions += 1
        return try mustSucceed(what, body)
    }

    /// Runs a setup step, which must succeed; returns its value. Not an assertion.
    @discardableResult
    public func setup<T: ~Copyable>(_ what: String, _ body: () throws -> T) throws -> T {
        setupSteps += 1
        return try mustSucceed(what, body)
    }

    private func mustSucceed<T: ~Copyable>(_ what: String, _ body: () throws -> T) throws -> T {
        do {
            let value = try body()
            trail.append("\(what): OK")
            return value
        } catch let error as IOMMUFDError {
            trail.append("\(what): \(IOMMUFDError.symbol(error.errno))")
            throw CaseFailure("\(what): expected success, got \(error)")
        }
    }

    /// Runs `body`, which must fail with `errno` from the kernel.
    public func expectErrno<T: ~Copyable>(_ errno: Errno, _ what: String,
                                          _ body: () throws -> T) throws {
        assertions += 1
        let result: Result<T, IOMMUFDError>
        do { result = .success(try body()) } catch let error as IOMMUFDError { result = .failure(error) }
        switch consume result {
        case .success:
            trail.append("\(what): OK")
            throw CaseFailure("\(what): expected \(IOMMUFDError.symbol(errno)), but it succeeded")
        case .failure(let error):
            trail.append("\(what): \(IOMMUFDError.symbol(error.errno))\(error.origin != .kernel ? " (library)" : "")")
            if error.origin != .kernel {
                throw CaseFailure("\(what): expected \(IOMMUFDError.symbol(errno)) from the kernel, but the library rejected it: \(error)")
            }
            if error.errno != errno {
                throw CaseFailure("\(what): expected \(IOMMUFDError.symbol(errno)), got \(error)")
            }
        }
    }

    /// Runs `body`: it must succeed when `errno` is nil, and fail with that errno from the kernel otherwise.
    public func expect<T: ~Copyable>(_ errno: Errno?, _ what: String, _ body: () throws -> T) throws {
        if let errno { try expectErrno(errno, what, body) } else { _ = try expectOK(what, body) }
    }

    /// Runs `body` and returns the errno symbol it failed with, or "OK" (for differential cases).
    public func observe<T: ~Copyable>(_ body: () throws -> T) -> String {
        assertions += 1
        let seen: String
        do { _ = try body(); seen = "OK" } catch let error as IOMMUFDError {
            seen = IOMMUFDError.symbol(error.errno)
        } catch { seen = "not an ioctl error: \(error)" }
        trail.append("observed: \(seen)")
        return seen
    }

    /// Ends the case with SKIP.
    public func skip(_ reason: String) throws -> Never { throw CaseSkip(reason) }
}
