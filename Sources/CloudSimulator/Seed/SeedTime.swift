import Foundation

/// A point in time in a seed: absolute (`2026-11-20T08:00:00Z`) or relative to when the seed is loaded
/// (`now`, `-2d`, `now-36h`, `+10m`), so seed files stay valid as real time passes.
/// Units: `s`, `m` (minutes), `h`, `d`, `w`, `y` (365 days).
public enum SeedTime: Sendable, Equatable, Decodable {
    case absolute(Date)
    case relative(seconds: Double)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = SeedTime.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a time such as 'now', '-2d', 'now-36h' or '2026-11-20T08:00:00Z' (at most 200 years away), got '\(text)'")
        }
        self = value
    }

    /// Relative times reach at most 200 years either way: simulated dates must stay printable in milliseconds.
    static let maxOffsetSeconds: Double = 200 * 365 * 86_400

    public static func parse(_ text: String) -> SeedTime? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "now" { return .relative(seconds: 0) }
        var offset = Substring(trimmed)
        if offset.hasPrefix("now") { offset = offset.dropFirst(3) }
        if let first = offset.first, first == "-" || first == "+", let unit = offset.last, let unitSeconds = unitSeconds(unit),
           let amount = Double(offset.dropFirst().dropLast()), amount >= 0, amount * unitSeconds <= maxOffsetSeconds {
            return .relative(seconds: (first == "-" ? -1 : 1) * amount * unitSeconds)
        }
        return ISOTime.parse(trimmed).map(SeedTime.absolute)
    }

    public func resolve(now: Date) -> Date {
        switch self {
        case .absolute(let date): date
        case .relative(let seconds): now.addingTimeInterval(seconds)
        }
    }

    private static func unitSeconds(_ unit: Character) -> Double? {
        switch unit {
        case "s": 1
        case "m": 60
        case "h": 3600
        case "d": 86_400
        case "w": 7 * 86_400
        case "y": 365 * 86_400
        default: nil
        }
    }
}

/// A subscription term: `1m`, `3m`, `6m`, `1y`, `2y`, `3y` (months: 30 days each; years: 365 days).
public struct SeedTerm: Sendable, Equatable, Decodable {
    public var months: Int

    public init(months: Int) { self.months = months }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = SeedTerm.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a term such as '1m', '6m', '1y', '2y' or '3y' (at most 10 years), got '\(text)'")
        }
        self = value
    }

    public static func parse(_ text: String) -> SeedTerm? {
        guard let unit = text.last, let number = Int(text.dropLast()), number > 0 else { return nil }
        switch unit {
        case "m" where number <= 120: return SeedTerm(months: number)
        case "y" where number <= 10: return SeedTerm(months: number * 12)
        default: return nil
        }
    }

    public var seconds: Double { months % 12 == 0 ? Double(months / 12) * 365 * 86_400 : Double(months) * 30 * 86_400 }
}
