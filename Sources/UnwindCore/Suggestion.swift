/// "Did you mean …?" hints for misspelled keys, step ids and action names.
///
/// Build one `Suggestion` per candidate set and reuse it: candidates are sorted and lower-cased once,
/// which matters when a hostile file asks for a thousand hints against a thousand step ids.
struct Suggestion: Sendable {
    /// Sorted, so ties go to the alphabetically first candidate and hints are deterministic.
    private let candidates: [(original: String, folded: [Unicode.Scalar])]

    /// Words longer than this get no suggestion: edit distance is O(n·m), and nothing that long is a typo.
    static let maximumWordLength = 200

    init(candidates: some Sequence<String>) {
        self.candidates = candidates.sorted().map { ($0, Array($0.lowercased().unicodeScalars)) }
    }

    /// The candidate closest to `word` by edit distance, if it is close enough to be a plausible typo.
    func closest(to word: String) -> String? {
        guard word.count <= Self.maximumWordLength else { return nil }
        let folded = Array(word.lowercased().unicodeScalars)
        var limit = max(2, folded.count / 3)
        var best: String?
        var rows = ([Int](), [Int]())
        for candidate in candidates where abs(candidate.folded.count - folded.count) <= limit {
            guard let distance = Self.distance(folded, candidate.folded, limit: limit, rows: &rows) else { continue }
            best = candidate.original
            // Only a strictly closer candidate can replace this one.
            if distance == 0 { break }
            limit = distance - 1
        }
        return best
    }

    /// Formats `"; did you mean 'x'?"` or an empty string.
    func hint(for word: String) -> String {
        closest(to: word).map { "; did you mean '\($0)'?" } ?? ""
    }

    static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        Suggestion(candidates: candidates).closest(to: word)
    }

    static func hint(for word: String, in candidates: some Sequence<String>) -> String {
        Suggestion(candidates: candidates).hint(for: word)
    }

    /// User-supplied text for a message, cut short so a megabyte-long value cannot flood the output.
    static func shown(_ text: String, limit: Int = 80) -> String {
        text.count > limit ? String(text.prefix(limit)) + "…" : text
    }

    /// Levenshtein distance, or `nil` as soon as it must exceed `limit` (every cell in a row does).
    /// `rows` is scratch space reused across calls to avoid two allocations per comparison.
    static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar], limit: Int, rows: inout ([Int], [Int])) -> Int? {
        if a.isEmpty { return b.count <= limit ? b.count : nil }
        if b.isEmpty { return a.count <= limit ? a.count : nil }
        // Move the buffers out (not copy) so they stay uniquely referenced and are reused in place.
        var previous: [Int] = [], current: [Int] = []
        swap(&previous, &rows.0)
        swap(&current, &rows.1)
        defer {
            swap(&previous, &rows.0)
            swap(&current, &rows.1)
        }
        previous.removeAll(keepingCapacity: true)
        previous.append(contentsOf: 0...b.count)
        current.removeAll(keepingCapacity: true)
        current.append(contentsOf: repeatElement(0, count: b.count + 1))
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
                rowMinimum = min(rowMinimum, current[j])
            }
            if rowMinimum > limit { return nil }
            swap(&previous, &current)
        }
        return previous[b.count] <= limit ? previous[b.count] : nil
    }
}
