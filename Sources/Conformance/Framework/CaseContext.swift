import IOMMUFD
import SystemPackage

/// What a running case sees: the machine, and the expectation helpers that count assertions.
public final class CaseContext {
    public let machine: Machine
    /// Assertions made so far; a case that makes none cannot pass.
    public private(set) var assertions = 0
    /// What the kernel did, for the differential table (e.g. "ENOENT").
    public var observation: String?

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
        try check(actual == expected, "\(what): got \(actual), expected \(expected)")
    }

    /// Runs `body`, which must succeed; returns its value.
    @discardableResult
    public func expectOK<T: ~Copyable>(_ what: String, _ body: () throws(IOMMUFDError) -> T) throws -> T {
        assertions += 1
        do { return try body() } catch { throw CaseFailure("\(what): expected success, got \(error)") }
    }

    /// Runs `body`, which must fail with `errno` from the kernel.
    public func expectErrno<T: ~Copyable>(_ errno: Errno, _ what: String,
                                          _ body: () throws(IOMMUFDError) -> T) throws {
        assertions += 1
        let result: Result<T, IOMMUFDError>
        do { result = .success(try body()) } catch { result = .failure(error) }
        switch consume result {
        case .success:
            throw CaseFailure("\(what): expected \(IOMMUFDError.symbol(errno)), but it succeeded")
        case .failure(let error):
            if error.origin != .kernel {
                throw CaseFailure("\(what): expected \(IOMMUFDError.symbol(errno)) from the kernel, but the library rejected it: \(error)")
            }
            if error.errno != errno {
                throw CaseFailure("\(what): expected \(IOMMUFDError.symbol(errno)), got \(error)")
            }
        }
    }

    /// Runs `body` and returns the errno symbol it failed with, or "OK" (for differential cases).
    public func observe<T: ~Copyable>(_ body: () throws(IOMMUFDError) -> T) -> String {
        assertions += 1
        do { _ = try body(); return "OK" } catch { return IOMMUFDError.symbol(error.errno) }
    }

    /// Ends the case with SKIP.
    public func skip(_ reason: String) throws -> Never { throw CaseSkip(reason) }
}
