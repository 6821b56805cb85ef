import Foundation

/// How a failed step attempt is retried: capped exponential back-off with optional full jitter.
///
/// Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter") is the default because many
/// sagas failing against the same cloud API at once should not retry in lock-step.
public struct RetryPolicy: Sendable, Codable, Equatable {
    /// Total attempts including the first; `1` means "never retry". Always ≥ 1.
    public var maxAttempts: Int
    /// Back-off before the second attempt (before jitter).
    public var initialInterval: Duration
    /// Growth factor per attempt; ≥ 1.
    public var multiplier: Double
    /// Upper bound for any single back-off (before jitter).
    public var maxInterval: Duration
    public var jitter: Jitter
    /// Error codes reported by actions that mean "retrying cannot help" (for example a quota that is
    /// already released). Matched exactly.
    public var nonRetryableErrorCodes: [String]

    public enum Jitter: String, Sendable, Codable, Equatable, CaseIterable {
        /// Uniform random delay in `[0, backoff]`.
        case full
        /// Exactly the computed back-off.
        case none
    }

    public init(
        maxAttempts: Int = 5,
        initialInterval: Duration = .seconds(1),
        multiplier: Double = 2,
        maxInterval: Duration = .seconds(300),
        jitter: Jitter = .full,
        nonRetryableErrorCodes: [String] = []
    ) {
        self.maxAttempts = maxAttempts
        self.initialInterval = initialInterval
        self.multiplier = multiplier
        self.maxInterval = maxInterval
        self.jitter = jitter
        self.nonRetryableErrorCodes = nonRetryableErrorCodes
    }

    /// 5 attempts, 1s initial, ×2, capped at 5m, full jitter, every error retryable.
    public static let `default` = RetryPolicy()

    /// Delay before attempt `attempt + 1` after attempt `attempt` (1-based) failed:
    /// `min(maxInterval, initialInterval * multiplier^(attempt-1))`; with full jitter a uniform value in
    /// `[0, that]`.
    ///
    /// - Parameters:
    ///   - attempt: the attempt that just failed, 1-based. Values below 1 are treated as 1.
    ///   - random: a value in `[0, 1)` supplied by the caller, so this function stays pure and testable.
    ///     Out-of-range values are clamped. Ignored when `jitter` is `.none`.
    public func delay(afterAttempt attempt: Int, random: Double) -> Duration {
        let exponent = Double(max(attempt, 1) - 1)
        let cap = maxInterval.timeInterval
        // pow can overflow to +inf for large attempts; min() then yields the cap, which is what we want.
        let backoff = min(cap, initialInterval.timeInterval * pow(max(multiplier, 1), exponent))
        let seconds: Double
        switch jitter {
        case .none:
            seconds = backoff
        case .full:
            let unit = random.isFinite ? min(max(random, 0), 1) : 0
            seconds = backoff * unit
        }
        return .nanoseconds(Int64((max(seconds, 0) * 1e9).rounded(.down)))
    }

    /// Whether an attempt that failed with `errorCode` may be retried. Failures without a code
    /// (timeouts, crashes) are always retryable; attempt limits are the caller's business.
    public func isRetryable(errorCode: String?) -> Bool {
        guard let errorCode else { return true }
        return !nonRetryableErrorCodes.contains(errorCode)
    }
}

extension RetryPolicy {
    private enum CodingKeys: String, CodingKey {
        case maxAttempts, initialInterval, multiplier, maxInterval, jitter, nonRetryableErrorCodes
    }

    // Durations are stored as seconds (Double) so the JSON copy in the database is readable by humans
    // and by SQL, instead of Duration's default `[seconds, attoseconds]` pair.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        maxAttempts = try container.decode(Int.self, forKey: .maxAttempts)
        guard (1...DefinitionValidator.maximumAttempts).contains(maxAttempts) else {
            throw DecodingError.dataCorruptedError(forKey: .maxAttempts, in: container, debugDescription: "\(maxAttempts) is not an attempt limit (1 to 1000)")
        }
        initialInterval = try container.decodeDefinitionDuration(forKey: .initialInterval)
        multiplier = try container.decode(Double.self, forKey: .multiplier)
        guard multiplier.isFinite, (1...100).contains(multiplier) else {
            throw DecodingError.dataCorruptedError(forKey: .multiplier, in: container, debugDescription: "\(multiplier) is not a back-off multiplier (1 to 100)")
        }
        maxInterval = try container.decodeDefinitionDuration(forKey: .maxInterval)
        jitter = try container.decode(Jitter.self, forKey: .jitter)
        nonRetryableErrorCodes = try container.decode([String].self, forKey: .nonRetryableErrorCodes)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(maxAttempts, forKey: .maxAttempts)
        try container.encode(initialInterval.timeInterval, forKey: .initialInterval)
        try container.encode(multiplier, forKey: .multiplier)
        try container.encode(maxInterval.timeInterval, forKey: .maxInterval)
        try container.encode(jitter, forKey: .jitter)
        try container.encode(nonRetryableErrorCodes, forKey: .nonRetryableErrorCodes)
    }
}
