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

    public init(id: String, profile: String, mode: String, status: Status, reason: String, ms: Int,
                observed: String? = nil) {
        self.id = id; self.profile = profile; self.mode = mode; self.status = status
        self.reason = reason; self.ms = ms; self.observed = observed
    }
}
