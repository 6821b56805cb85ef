import Foundation

/// An age as operators write it for filters and pruning (`--since 7d`, `?since=721h`, `--older-than 90d`): a positive
/// decimal number with a unit `s`, `m`, `h` or `d`, up to 100 years. Unlike a definition's durations, which are
/// bounded by what a step may wait (30 days), an age reaches back as far as the history does.
public enum Age {
    public static let longestSeconds: Double = 36_500 * 86_400

    public enum Problem: Error, Equatable, Sendable {
        /// Not a number with a unit.
        case unreadable
        /// More than 100 years.
        case tooLong
    }

    /// The age in seconds.
    public static func seconds(_ text: String) throws(Problem) -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        // A definition's forms (`1h30m`, `500ms`) are ages too, within their own 30-day bound.
        if let duration = Duration(definitionText: trimmed), trimmed.contains(where: \.isLetter) {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            if seconds > 0 { return seconds }
        }
        guard let unit = trimmed.last else { throw .unreadable }
        let factor: Double
        switch unit {
        case "s": factor = 1
        case "m": factor = 60
        case "h": factor = 3_600
        case "d": factor = 86_400
        default: throw .unreadable
        }
        let digits = trimmed.dropLast()
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              digits.filter({ $0 == "." }).count <= 1, let number = Double(digits), number.isFinite, number > 0 else {
            throw .unreadable
        }
        let seconds = number * factor
        guard seconds <= longestSeconds else { throw .tooLong }
        return seconds
    }
}
