extension Duration {
    /// The longest duration a definition may declare. Anything longer is almost certainly a typo
    /// (`30000s` meant as milliseconds) and would park a step for longer than anyone would notice.
    public static let maximumDefinitionDuration: Duration = .seconds(30 * 24 * 3600)

    /// Parses a definition duration: `500ms`, `2s`, `1m`, `1h`, `1m30s`, `1h2m3s500ms`, or a plain
    /// (possibly fractional) number of seconds such as `30` or `0.5`.
    ///
    /// Units must appear largest first and at most once each, and each after the first below the unit before
    /// it, so `30s1m`, `1m1m` and `1m90s` are rejected rather than guessed at. Returns `nil` for anything
    /// malformed, non-positive or longer than ``maximumDefinitionDuration``; the caller turns that into a
    /// "bad duration" issue naming the text.
    public init?(definitionText text: String) {
        let text = text.trimmingWhitespace()
        guard !text.isEmpty else { return nil }
        var seconds: Double
        if let plain = Double(text), text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
            seconds = plain
        } else {
            // Order matters: "ms" must be tried before "m".
            let units: [(suffix: String, seconds: Double)] = [("h", 3600), ("ms", 0.001), ("m", 60), ("s", 1)]
            let rank = ["h": 0, "m": 1, "s": 2, "ms": 3]
            var rest = Substring(text)
            var lastRank = -1
            seconds = 0
            while !rest.isEmpty {
                let digits = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
                guard !digits.isEmpty, let amount = Double(digits) else { return nil }
                rest = rest.dropFirst(digits.count)
                guard let unit = units.first(where: { rest.hasPrefix($0.suffix) }),
                      let unitRank = rank[unit.suffix], unitRank > lastRank
                else { return nil }
                // After a larger unit, a part must stay below that unit: `1m90s` is a typo, not 2m30s.
                if lastRank >= 0, let limit = ["m": 60.0, "s": 60, "ms": 1000][unit.suffix], amount >= limit { return nil }
                lastRank = unitRank
                rest = rest.dropFirst(unit.suffix.count)
                seconds += amount * unit.seconds
            }
        }
        // Durations are kept in whole milliseconds: anything under one is refused, whatever it would round to
        // (`0.0005` used to pass as 1ms while `0.0001` was refused).
        guard seconds.isFinite, seconds >= 0.001, seconds <= 30 * 24 * 3600 else { return nil }
        self = .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// The duration as fractional seconds; this is how definitions encode durations in JSON.
    public var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Compact human form used in messages and docs: `1m30s`, `500ms`, `2h`.
    public var definitionText: String {
        var milliseconds = Int64((timeInterval * 1000).rounded())
        if milliseconds == 0 { return "0s" }
        var parts = ""
        for (unit, size) in [("h", Int64(3_600_000)), ("m", 60_000), ("s", 1000), ("ms", 1)] {
            let count = milliseconds / size
            if count > 0 { parts += "\(count)\(unit)" }
            milliseconds %= size
        }
        return parts
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

extension KeyedDecodingContainer {
    /// A duration stored as seconds in a compiled definition (the database's copy): refused, not trapped on, when
    /// it is not a number of seconds a definition can declare (the row was edited by hand or damaged).
    func decodeDefinitionDuration(forKey key: Key) throws -> Duration {
        let seconds = try decode(Double.self, forKey: key)
        guard seconds.isFinite, seconds >= 0, seconds <= Duration.maximumDefinitionDuration.timeInterval else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "\(seconds) is not a duration a definition can hold (0 to 30 days, in seconds)")
        }
        return .seconds(seconds)
    }
}
