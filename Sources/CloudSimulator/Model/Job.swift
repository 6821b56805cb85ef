import Foundation

/// An ECS asynchronous job created by batch delete, with one sub-job per server.
public struct Job: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable {
        case initial = "INIT", running = "RUNNING", success = "SUCCESS", fail = "FAIL"
    }

    public struct SubJob: Sendable, Equatable {
        public var jobID: String
        public var serverID: String
        /// `nil` = succeeds; otherwise the error code and reason it fails with.
        public var failure: (code: String, reason: String)?

        public static func == (lhs: SubJob, rhs: SubJob) -> Bool {
            lhs.jobID == rhs.jobID && lhs.serverID == rhs.serverID && lhs.failure?.code == rhs.failure?.code && lhs.failure?.reason == rhs.failure?.reason
        }
    }

    public var jobID: String
    public var projectID: String
    public var createdAt: Date
    public var runningAt: Date
    public var endsAt: Date
    public var subJobs: [SubJob]
    public var deletePublicIP: Bool?
    public var deleteVolume: Bool
    /// Set once the end effects (servers deleted) have been applied.
    public var effectsApplied: Bool

    public func status(at now: Date) -> Status {
        if now < runningAt { return .initial }
        if now < endsAt { return .running }
        return subJobs.allSatisfy { $0.failure == nil } ? .success : .fail
    }

    public func subJobStatus(_ sub: SubJob, at now: Date) -> Status {
        let overall = status(at: now)
        guard overall == .success || overall == .fail else { return overall }
        return sub.failure == nil ? .success : .fail
    }
}
