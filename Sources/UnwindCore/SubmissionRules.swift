import Foundation

/// Queue names: what a submission may name and a worker may serve.
///
/// A worker's `--queues` is a comma-separated list, so a name with a comma (or an empty one) could never be
/// served: its workflow would sit ready forever, holding its concurrency key.
public enum QueueName {
    public static let maxLength = 64

    /// Why `name` cannot be a queue name, or nil if it can.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "a queue name cannot be empty" }
        if name.utf8.count > maxLength { return "queue name '\(name.prefix(20))…' is longer than \(maxLength) characters" }
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || scalar == "_" || scalar == "-" || scalar == "." || scalar == ":")
        }
        return allowed ? nil : "queue name '\(name)' may only contain letters, digits, '_', '-', '.' and ':'"
    }
}

/// Who acts on a workflow, as the history records it (`unwind … --as NAME`, the API's `actor`): a name, not a
/// sentence. A newline or a control character in it would forge lines of `unwind history`; a megabyte, fill it.
public enum ActorName {
    public static let maxLength = 64

    /// Why `name` cannot name who acts, or nil if it can. Letters of any script are allowed (people's names).
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "the name is empty" }
        // Counted in Unicode scalars: counted in characters, combining marks would let one "character" be megabytes.
        if name.unicodeScalars.count > maxLength { return "the name is longer than \(maxLength) characters" }
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            CharacterSet.alphanumerics.contains(scalar) || "._@-:".unicodeScalars.contains(scalar)
        }
        return allowed ? nil : "the name may hold letters, digits and . _ @ - : only"
    }
}

/// Bounds on what a submission carries, the same for the CLI and the HTTP API.
public enum SubmissionLimits {
    /// A priority orders due steps; it is not an identifier (and must fit the column).
    public static let maxPriority = 1_000_000
    public static let maxIdempotencyKeyLength = 500
    /// Labels are for finding workflows (`list --label`), shown on every row of `unwind list`: a handful of short
    /// names, not a place for data.
    public static let maxLabels = 64
    public static let maxLabelKeyLength = 100
    public static let maxLabelValueLength = 500
    /// The latest start time: what ISO 8601 with a four-digit year (and so the store and every client) can
    /// write back. A later one was stored, then could be neither shown nor cancelled, and held its
    /// concurrency key for good.
    public static let latestNotBefore = Date(timeIntervalSince1970: 253_402_300_799)  // 9999-12-31T23:59:59Z
    public static let earliestNotBefore = Date(timeIntervalSince1970: 0)

    /// What is wrong with a submission's labels and start time, each problem prefixed with its field; empty
    /// when nothing is. The CLI (one workflow or a fleet) and the HTTP API all check through this.
    public static func problems(labels: [String: String], notBefore: Date?, idempotencyKey: String? = nil) -> [String] {
        var problems: [String] = []
        if let idempotencyKey {
            // A blank key (an unset variable, an empty fleet cell in JSON) would make every later submission with
            // one return the first workflow.
            if idempotencyKey.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                problems.append("idempotency_key: must not be empty; leave it out to submit without one")
            } else if idempotencyKey.count > maxIdempotencyKeyLength {
                problems.append("idempotency_key: longer than \(maxIdempotencyKeyLength) characters")
            }
        }
        if labels.keys.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            problems.append("labels: a label key cannot be empty (a `label.` column or `_labels` entry without a name)")
        }
        if labels.count > maxLabels {
            problems.append("labels: \(labels.count) labels; at most \(maxLabels) are allowed (labels name a workflow for `list --label`; put data in the input)")
        }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            if key.count > maxLabelKeyLength { problems.append("labels: key '\(key.prefix(20))…' is longer than \(maxLabelKeyLength) characters") }
            // `list --label key=value` splits at the first `=`: a key holding one could never be found.
            if key.contains("=") { problems.append("labels: key '\(key.prefix(40))' contains '='; `list --label key=value` could not find it") }
            if key.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                problems.append("labels: a key contains a control character (a newline, a tab, an escape)")
            }
            if value.count > maxLabelValueLength { problems.append("labels: the value of '\(key.prefix(40))' is longer than \(maxLabelValueLength) characters") }
            if problems.count >= 10 { break }
        }
        if let notBefore, !(earliestNotBefore...latestNotBefore).contains(notBefore) {
            problems.append("not_before: \(notBefore.timeIntervalSince1970 < 0 ? "before 1970" : "after the year 9999"); give a start time from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z (a time in the past starts at once)")
        }
        return problems
    }
}

/// ISO 8601 times as operators write them (`2026-12-01T02:00:00Z`, `…+08:00`), read strictly: Foundation's parser
/// rolls impossible fields over (February 30th becomes March 2nd, second 60 the next minute), which would start a
/// workflow days early without a word. The CLI's `--not-before` and the API's `not_before` both read through this.
public enum StrictTime {
    public enum Reading: Equatable {
        case time(Date)
        /// ISO 8601 in form, but no such day, hour or second.
        case impossible
        /// Not an ISO 8601 time with its zone.
        case malformed
    }

    public static func read(_ text: String) -> Reading {
        guard let date = try? Date(text, strategy: .iso8601) else { return .malformed }
        guard let fields = text.wholeMatch(of: /(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|z|([+-])(\d{2}):?(\d{2}))/) else {
            return .time(date)
        }
        var offset = 0
        if let sign = fields.output.8, let hours = Int(fields.output.9 ?? ""), let minutes = Int(fields.output.10 ?? "") {
            offset = (sign == "-" ? -1 : 1) * (hours * 3600 + minutes * 60)
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let read = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date.addingTimeInterval(Double(offset)))
        let written = [fields.output.1, fields.output.2, fields.output.3, fields.output.4, fields.output.5, fields.output.6].map { Int($0) }
        return written == [read.year, read.month, read.day, read.hour, read.minute, read.second] ? .time(date) : .impossible
    }
}
