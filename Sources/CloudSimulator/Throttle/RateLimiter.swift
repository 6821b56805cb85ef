import Foundation

/// Per-(account, API) token buckets: `limit` requests per minute, refilled continuously, burst up to `limit`.
///
/// Driven by the simulated clock so tests can exhaust a bucket and then advance time to refill it. Rejected
/// calls do not consume tokens, but every attempt (retries included) is checked against the bucket.
public struct RateLimiter: Sendable, Equatable {
    private struct Bucket: Equatable {
        var tokens: Double
        var updated: Date
    }

    private var buckets: [String: Bucket] = [:]

    public init() {}

    /// `nil` when allowed (a token is taken); otherwise the seconds until a token is available.
    public mutating func acquire(account: String, api: String, limitPerMinute: Int, now: Date) -> Double? {
        guard limitPerMinute > 0 else { return 60 }
        let key = account + "|" + api
        let rate = Double(limitPerMinute) / 60
        var bucket = buckets[key] ?? Bucket(tokens: Double(limitPerMinute), updated: now)
        let elapsed = max(0, now.timeIntervalSince(bucket.updated))
        bucket.tokens = min(Double(limitPerMinute), bucket.tokens + elapsed * rate)
        bucket.updated = now
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            buckets[key] = bucket
            return nil
        }
        buckets[key] = bucket
        return (1 - bucket.tokens) / rate
    }

    public mutating func reset() { buckets.removeAll() }
}
