/// Remembers accepted signatures until their `X-Sdk-Date` leaves the skew window, so the same signed request
/// cannot be accepted twice (a replay). Outside the window the date check rejects it anyway.
public struct ReplayCache: Sendable, Equatable {
    private var expiries: [String: Int64] = [:]

    public init() {}

    /// Records `signature`; `false` if it was already seen and has not expired.
    public mutating func admit(signature: String, expiresAt: Int64, now: Int64) -> Bool {
        if expiries.count > 10_000 { expiries = expiries.filter { $0.value > now } }
        if let expiry = expiries[signature], expiry > now { return false }
        expiries[signature] = expiresAt
        return true
    }

    public mutating func reset() { expiries.removeAll() }
}
