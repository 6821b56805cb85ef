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

/// Bounds on what a submission carries, the same for the CLI and the HTTP API.
public enum SubmissionLimits {
    /// A priority orders due steps; it is not an identifier (and must fit the column).
    public static let maxPriority = 1_000_000
    public static let maxIdempotencyKeyLength = 500
}
