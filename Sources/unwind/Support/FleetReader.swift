import Foundation
import UnwindCore

/// One row of a fleet file: its first line number and either the submission it describes or why it is invalid.
struct FleetRow {
    struct Submission {
        var input: [String: JSONValue]
        var idempotencyKey: String?
        var labels: [String: String]
    }

    var line: Int
    var result: Result<Submission, FleetRowError>
}

struct FleetRowError: Error {
    var message: String
}

/// Streams a fleet file (`.csv` with a header row, or `.jsonl` with one JSON object per line) a chunk at a time,
/// so a file of millions of rows is never held in memory.
///
/// - CSV (RFC 4180: quoted fields may hold commas, quotes as `""`, and newlines): the header names input fields;
///   the optional columns `idempotency_key` and `label.NAME` set the row's idempotency key and labels. Values are
///   typed by the workflow's input declarations (`true`, `42`, JSON for objects and arrays); an empty cell
///   leaves the field out, so its default applies.
/// - JSON Lines: each line an object of input fields, with optional `_idempotency_key` and `_labels`.
/// Blank lines and lines starting with `#` are skipped. A row is at most 1 MiB.
final class FleetReader: Sequence, IteratorProtocol {
    enum Format { case csv, jsonl }

    static let maximumRowBytes = 1 << 20

    private let handle: FileHandle
    private let format: Format
    private let definition: WorkflowDefinition
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEnd = false
    private var line = 1
    private var header: [String]?
    private var headerFailed = false
    /// Data rows returned so far (a CSV header, blank lines and comments not counted).
    private(set) var rowsRead = 0

    init(path: String, definition: WorkflowDefinition) throws {
        let lowered = path.lowercased()
        if lowered.hasSuffix(".csv") {
            format = .csv
        } else if lowered.hasSuffix(".jsonl") || lowered.hasSuffix(".ndjson") {
            format = .jsonl
        } else {
            throw CLIError(description: "--fleet '\(path)': use a .csv file (header row of input fields) or a .jsonl file (one JSON object per line)", status: .usage)
        }
        // FileHandle opens a directory, then traps on the first read: checked first.
        if let problem = UserFile.problem(path) { throw CLIError(description: "--fleet: \(problem)", status: .usage) }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CLIError(description: "--fleet: cannot read '\(path)'", status: .usage)
        }
        self.handle = handle
        self.definition = definition
        // Spreadsheet programs often save with a byte-order mark: UTF-8's is skipped; UTF-16 is refused up front
        // (every row would otherwise be reported as garbage).
        refill()
        if buffer.starts(with: [0xEF, 0xBB, 0xBF]) {
            position = 3
        } else if buffer.starts(with: [0xFF, 0xFE]) || buffer.starts(with: [0xFE, 0xFF]) {
            throw CLIError(description: "--fleet '\(path)' is UTF-16 text; save it as UTF-8 (CSV UTF-8 in spreadsheet programs)", status: .usage)
        }
    }

    deinit { try? handle.close() }

    func next() -> FleetRow? {
        if headerFailed { return nil }
        // A CSV header that cannot be read spoils every row as much as a bad one does: reported once, and no row
        // is read (the next line would otherwise be taken for the header).
        func failure(_ line: Int, _ error: FleetRowError) -> FleetRow {
            guard format == .csv, header == nil else { return FleetRow(line: line, result: .failure(error)) }
            headerFailed = true
            return FleetRow(line: line, result: .failure(FleetRowError(message: "the header: \(error.message); no row was read (fix the header)")))
        }
        while true {
            guard let (startLine, bytes) = nextRecord() else { return nil }
            if let error = bytes.error { return failure(startLine, error) }
            let record = bytes.value
            // Blank lines and comments are skipped (checked on bytes: this runs once per row of huge files).
            let firstVisible = record.firstIndex { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
            guard let firstVisible, record[firstVisible] != UInt8(ascii: "#") else { continue }
            if record.withUnsafeBufferPointer({ $0.baseAddress.map { memchr($0, 0, record.count) != nil } ?? false }) {
                return failure(startLine, FleetRowError(message: "contains NUL bytes: this is not a text file"))
            }
            guard let text = String(validating: record, as: UTF8.self) else {
                return failure(startLine, FleetRowError(message: "not valid UTF-8 text (save the file as UTF-8)"))
            }
            switch format {
            case .jsonl:
                rowsRead += 1
                return FleetRow(line: startLine, result: parseJSONLine(text))
            case .csv:
                let fields: [String]
                do {
                    fields = try Self.splitCSV(text)
                } catch {
                    return failure(startLine, error as? FleetRowError ?? FleetRowError(message: "\(error)"))
                }
                guard let header else {
                    let names = fields.map { $0.trimmingCharacters(in: .whitespaces) }
                    self.header = names
                    if names.contains(where: { $0.contains("\r") }) {
                        headerFailed = true
                        return FleetRow(line: startLine, result: .failure(FleetRowError(message: "the file's lines end with a lone carriage return (classic Mac line endings); no row was read (save it with LF or CRLF line endings)")))
                    }
                    // A bad header spoils every row: it is reported once, on its own line, and no row is read.
                    if let position = names.firstIndex(of: "") {
                        headerFailed = true
                        return FleetRow(line: startLine, result: .failure(FleetRowError(message: "the header's column \(position + 1) has no name; no row was read (fix the header)")))
                    }
                    if let duplicate = Dictionary(grouping: names, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
                        headerFailed = true
                        return FleetRow(line: startLine, result: .failure(FleetRowError(message: "the header names column '\(duplicate)' twice; no row was read (fix the header)")))
                    }
                    continue
                }
                rowsRead += 1
                return FleetRow(line: startLine, result: parseCSVRow(fields, header: header))
            }
        }
    }

    // MARK: Records

    private struct Bytes {
        var value: [UInt8] = []
        var error: FleetRowError?
    }

    /// The next record's first line and bytes: a line for JSONL; for CSV, lines joined while a quote is open.
    /// Scans the buffer a run at a time (up to the next newline or quote) rather than byte by byte.
    private func nextRecord() -> (Int, Bytes)? {
        var record = Bytes()
        let startLine = line
        var inQuotes = false
        var justClosed = false  // the last byte closed a quoted field (a quote right after it is an escaped quote)
        var sawAnything = false
        let quote = UInt8(ascii: "\""), newline = UInt8(ascii: "\n")
        let trackQuotes = format == .csv
        while true {
            if position >= buffer.count {
                if atEnd { break }
                refill()
                continue
            }
            sawAnything = true
            // The run of ordinary bytes up to (not including) the next newline or, for CSV, quote.
            let runEnd = buffer.withUnsafeBufferPointer { bytes -> Int in
                var index = position
                while index < bytes.count {
                    let byte = bytes[index]
                    if byte == newline || (trackQuotes && byte == quote) { break }
                    index += 1
                }
                return index
            }
            if runEnd > position { justClosed = false }
            append(buffer[position..<runEnd], to: &record)
            position = runEnd
            guard position < buffer.count else { continue }
            let byte = buffer[position]
            position += 1
            if byte == quote {
                // As `splitCSV` reads it: a quote opens a quoted field only at the start of a field (after blanks), `""` inside
                // one is a quote, and a quote in the middle of an unquoted field (`ab"c`) is an ordinary character.
                if inQuotes {
                    inQuotes = false
                    justClosed = true
                } else if justClosed {
                    inQuotes = true
                    justClosed = false
                } else if Self.atFieldStart(record.value) {
                    inQuotes = true
                }
                append(buffer[(position - 1)..<position], to: &record)
                continue
            }
            justClosed = false
            line += 1
            if !inQuotes { break }
            append(buffer[(position - 1)..<position], to: &record)
        }
        guard sawAnything else { return nil }
        if record.value.last == UInt8(ascii: "\r") { record.value.removeLast() }
        if inQuotes && record.error == nil {
            record.error = FleetRowError(message: "a quoted field is never closed")
        }
        return (startLine, record)
    }

    /// Whether only blanks follow the record's last comma (or its start): where a quote opens a quoted field.
    private static func atFieldStart(_ bytes: [UInt8]) -> Bool {
        var index = bytes.count - 1
        while index >= 0 && (bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t")) { index -= 1 }
        return index < 0 || bytes[index] == UInt8(ascii: ",")
    }

    /// Appends to the record, up to the row limit; beyond it the row is only marked too long (and its bytes dropped).
    private func append(_ bytes: ArraySlice<UInt8>, to record: inout Bytes) {
        guard !bytes.isEmpty else { return }
        let room = Self.maximumRowBytes - record.value.count
        if bytes.count > room, record.error == nil {
            record.error = FleetRowError(message: "row is longer than \(Self.maximumRowBytes / 1024) KiB")
        }
        if room > 0 { record.value.append(contentsOf: bytes.prefix(room)) }
    }

    private func refill() {
        if position > 0 {
            buffer.removeFirst(position)
            position = 0
        }
        let chunk = handle.readData(ofLength: 64 * 1024)
        if chunk.isEmpty {
            atEnd = true
        } else {
            buffer.append(contentsOf: chunk)
        }
    }

    // MARK: Parsing

    /// One CSV record's fields. Blanks around an unquoted field are dropped (`acme, cn-north-4` as typed by
    /// hand); a quoted field keeps its text exactly, and blanks may surround its quotes.
    static func splitCSV(_ text: String) throws -> [String] {
        // Most rows quote nothing: split them directly.
        if !text.utf8.contains(UInt8(ascii: "\"")) {
            return text.split(separator: ",", omittingEmptySubsequences: false).map { trimmingBlanks($0) }
        }
        var fields: [String] = []
        var current = ""
        var inQuotes = false
        var quotedField = false
        var iterator = Array(text.unicodeScalars)[...]
        func endField() {
            fields.append(quotedField ? current : trimmingBlanks(current[...]))
            current = ""
            quotedField = false
        }
        while let scalar = iterator.popFirst() {
            if inQuotes {
                if scalar == "\"" {
                    if iterator.first == "\"" {
                        current.unicodeScalars.append("\"")
                        iterator.removeFirst()
                    } else {
                        inQuotes = false
                    }
                } else {
                    current.unicodeScalars.append(scalar)
                }
            } else if scalar == "," {
                endField()
            } else if quotedField {
                guard scalar == " " || scalar == "\t" else { throw FleetRowError(message: "text after a closing quote") }
            } else if scalar == "\"" && current.unicodeScalars.allSatisfy({ $0 == " " || $0 == "\t" }) {
                current = ""
                inQuotes = true
                quotedField = true
            } else {
                current.unicodeScalars.append(scalar)  // a quote inside an unquoted field is an ordinary character
            }
        }
        guard !inQuotes else { throw FleetRowError(message: "a quoted field is not closed") }
        endField()
        return fields
    }

    private static func trimmingBlanks(_ field: Substring) -> String {
        String(field.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    private func parseCSVRow(_ fields: [String], header: [String]) -> Result<FleetRow.Submission, FleetRowError> {
        guard fields.count == header.count else {
            return .failure(FleetRowError(message: "has \(fields.count) fields but the header has \(header.count)"))
        }
        var submission = FleetRow.Submission(input: [:], idempotencyKey: nil, labels: [:])
        for (name, value) in zip(header, fields) {
            if name == "idempotency_key" {
                submission.idempotencyKey = value.isEmpty ? nil : value
            } else if name.hasPrefix("label.") {
                if !value.isEmpty { submission.labels[String(name.dropFirst("label.".count))] = value }
            } else if !value.isEmpty {
                do {
                    submission.input[name] = try InputOptions.typedValue(value, key: name, field: definition.inputs.first { $0.name == name })
                } catch {
                    return .failure(FleetRowError(message: "column '\(name)': '\(String(value.prefix(40)))' is not a valid \(definition.inputs.first { $0.name == name }?.type.rawValue ?? "value")"))
                }
            }
        }
        return .success(submission)
    }

    private func parseJSONLine(_ text: String) -> Result<FleetRow.Submission, FleetRowError> {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: text, rejectingDuplicateNames: true)
        } catch {
            return .failure(FleetRowError(message: "not valid JSON (\(error.problem) at byte \(error.offset + 1))"))
        }
        guard case .object(var object) = value else {
            return .failure(FleetRowError(message: "not a JSON object (expected {\"field\": value, …})"))
        }
        var submission = FleetRow.Submission(input: [:], idempotencyKey: nil, labels: [:])
        if let key = object.removeValue(forKey: "_idempotency_key") {
            guard let text = key.stringValue else { return .failure(FleetRowError(message: "_idempotency_key must be a string")) }
            submission.idempotencyKey = text
        }
        if let labels = object.removeValue(forKey: "_labels") {
            guard let map = labels.objectValue, map.values.allSatisfy({ $0.stringValue != nil }) else {
                return .failure(FleetRowError(message: "_labels must be an object of strings"))
            }
            submission.labels = map.compactMapValues(\.stringValue)
        }
        // Text columns cannot hold NUL (the inputs are checked with the definition's validation).
        if submission.idempotencyKey?.unicodeScalars.contains("\u{0}") == true { return .failure(FleetRowError(message: "_idempotency_key contains a NUL character (\\u0000); remove it")) }
        if submission.labels.contains(where: { $0.key.unicodeScalars.contains("\u{0}") || $0.value.unicodeScalars.contains("\u{0}") }) {
            return .failure(FleetRowError(message: "_labels contain a NUL character (\\u0000); remove it"))
        }
        submission.input = object
        return .success(submission)
    }
}

/// Rows of one fleet file that repeat an earlier row: the same idempotency key (the row's own, or, for a row without
/// one, the one derived from its input, so the same input twice; rows with keys of their own may share an input),
/// or the same concurrency key (one unfinished workflow per key, e.g.
/// one teardown per cloud account). Submitted, the later one would only report `exists` or be refused; planned,
/// it would be counted twice.
///
/// Keys are remembered as 64-bit hashes (this process's seeded SipHash) with their line, so that a file of millions
/// of rows stays streamed: a few tens of megabytes, not the keys themselves. Two different keys with one hash are
/// a chance of about one in 10^7 for a million rows.
struct FleetRepeats {
    private var lineOfKey: [Int: Int32] = [:]
    private var lineOfConcurrencyKey: [Int: Int32] = [:]

    /// Why the row at `line` repeats an earlier one (nil: it does not); remembers it otherwise.
    mutating func problem(line: Int, idempotencyKey: String, concurrencyKey: String?, explicitKey: Bool) -> String? {
        let key = idempotencyKey.hashValue
        if let first = lineOfKey[key] {
            return explicitKey
                ? "idempotency_key '\(idempotencyKey)' is also line \(first)'s; give each row its own key, or remove the repeated row"
                : "the same input as line \(first); remove the repeated row"
        }
        let concurrency = concurrencyKey?.hashValue
        if let concurrencyKey, let concurrency, let first = lineOfConcurrencyKey[concurrency] {
            return "shares the concurrency key '\(concurrencyKey)' with line \(first), and only one unfinished workflow may hold it (for the SecMaster teardown: one per account): submit this row in a later file, once that workflow has finished"
        }
        let stored = Int32(clamping: line)
        lineOfKey[key] = stored
        if let concurrency { lineOfConcurrencyKey[concurrency] = stored }
        return nil
    }
}
