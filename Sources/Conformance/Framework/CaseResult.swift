/// The outcome of one case on one profile; the JSON schema of the main job.
public struct CaseResult: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case pass, fail, skip }
    public let id: String
    public let profile: String
    public let mode: String
    public let status: Status
    /// Why it failed or skipped; for a pass, how many assertions it made.
    public let reason: String
    public let ms: Int
    /// What the kernel did, where the case records it (differential cases).
    public let observed: String?
    /// The release (uname -r) of the kernel the case ran on. Optional so results
    /// written before it existed still decode; a merged document mixes kernels
    /// (e.g. profile "intel-6.1" next to the 6.12 profiles), so it is per case.
    public let kernel: String?
    /// What each expectation saw, in order ("unmap half: ENOENT", "flags: 0"): two
    /// kernels that both pass a case can still answer differently, and the
    /// kernel-diff table compares these.
    public let trail: [String]?

    public init(id: String, profile: String, mode: String, status: Status, reason: String, ms: Int,
                observed: String? = nil, kernel: String? = nil, trail: [String]? = nil) {
        self.id = id; self.profile = profile; self.mode = mode; self.status = status
        self.reason = reason; self.ms = ms; self.observed = observed; self.kernel = kernel
        self.trail = trail
    }

    /// A SKIP because the running kernel is older than the case's `since`
    /// (Runner.skipReason), as opposed to a missing device or option.
    public var isVersionSkip: Bool { status == .skip && reason.hasPrefix(CaseResult.versionSkipPrefix) }
    public static let versionSkipPrefix = "needs kernel "
}
