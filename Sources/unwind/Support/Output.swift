import ArgumentParser
import Foundation
import UnwindCore

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

/// A plain text table with columns padded to their widest cell. Control characters in cells are shown
/// escaped, so a hostile value cannot move the cursor or recolour an operator's terminal.
/// `text` cut to at most `limit` characters, with "…" where it was cut, so a shortened value never reads as whole.
func clipped(_ text: String, _ limit: Int) -> String {
    text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
}

struct TextTable {
    var headers: [String]
    var rows: [[String]] = []

    init(headers: [String]) { self.headers = headers }

    mutating func add(_ row: [String]) { rows.append(row.map(Self.neutralise)) }

    func render() -> String {
        let widths = headers.indices.map { column in
            ([headers[column]] + rows.map { column < $0.count ? $0[column] : "" }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }
        return line(headers) + rows.map(line).joined()
    }

    static func neutralise(_ text: String) -> String { neutralise(text, keepingNewlines: false) }

    static func neutralise(_ text: String, keepingNewlines: Bool) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if keepingNewlines && scalar == "\n" {
                result.unicodeScalars.append(scalar)
            } else if scalar.value < 0x20 || scalar.value == 0x7f || (0x80...0x9f).contains(scalar.value)
                        // Bidirectional overrides and isolates reorder what follows them on the line (a value
                        // could make another column read backwards).
                        || (0x202a...0x202e).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value) {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

extension JSONValue {
    /// Pretty, key-sorted JSON for `--output json`.
    var prettyJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "null"
    }
}

/// Encodes any Encodable value as pretty JSON with ISO 8601 dates.
func jsonText<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    encoder.keyEncodingStrategy = .convertToSnakeCase
    let text = (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    // The pretty printer writes an empty array as "[\n\n]"; scripts expect "[]".
    return text.filter { !$0.isWhitespace } == "[]" ? "[]" : text
}

/// Why a listener could not start, in words: NIO's error reads `bind(descriptor:ptr:bytes:): Address already in
/// use (errno: 98)`.
func listenFailure(_ error: any Error) -> String {
    let text = "\(error)"
    if text.contains("Address already in use") { return "the port is already in use" }
    if text.contains("Permission denied") { return "permission denied (ports below 1024 need privileges)" }
    if text.contains("Cannot assign requested address") { return "that address is not one of this machine's" }
    return text
}
