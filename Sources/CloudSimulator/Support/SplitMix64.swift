/// A tiny deterministic random number generator (SplitMix64).
///
/// The simulator takes every random decision (fault probabilities, job durations, generated IDs) from one of
/// these, seeded from the seed file or the command line, so a run with the same inputs is reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniformly distributed value in `0..<1`.
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// A lower-case hex identifier of `length` characters.
    public mutating func hexID(_ length: Int = 32) -> String {
        var out = ""
        while out.count < length { out += String(next(), radix: 16).leftPadded(to: 16) }
        return String(out.prefix(length))
    }

    /// A UUID-shaped identifier (8-4-4-4-12 hex), the shape ECS and VPCEP use for IDs.
    public mutating func uuid() -> String {
        let hex = Array(hexID(32))
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }.joined(separator: "-")
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
