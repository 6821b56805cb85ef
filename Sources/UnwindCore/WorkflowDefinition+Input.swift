extension WorkflowDefinition {
    /// Checks a submitted input against ``inputs`` and returns it with defaults applied.
    ///
    /// Unknown fields are rejected (a misspelled optional field would otherwise be silently ignored
    /// and its default used). A `null` value counts as absent. All problems are reported at once,
    /// each naming its field, in input declaration order followed by unknown fields sorted by name.
    public func validateInput(_ input: [String: JSONValue]) throws(InputValidationError) -> [String: JSONValue] {
        var problems: [String] = []
        var result: [String: JSONValue] = [:]
        let declared = Set(inputs.map(\.name))

        for field in inputs {
            // Spelled out because JSONValue is ExpressibleByNilLiteral: a bare `nil` here would be `.null`.
            var given: JSONValue? = input[field.name]
            if given == .null { given = Optional.none }
            guard let value = given ?? field.defaultValue else {
                if field.required {
                    problems.append("'\(field.name)': required field is missing")
                }
                continue
            }
            let fieldProblems = field.problems(with: value)
            problems += fieldProblems.map { "'\(field.name)': \($0)" }
            if fieldProblems.isEmpty { result[field.name] = value }
        }

        // The first few by name, each cut short: an input of thousands of made-up fields (or one with a megabyte
        // for a name) must not make a message of the same size.
        let unknown = input.keys.filter { !declared.contains($0) }.sorted()
        for name in unknown.prefix(Self.unknownFieldsNamed) {
            problems.append("'\(Suggestion.shown(name))': unknown field" + Suggestion.hint(for: name, in: declared))
        }
        if unknown.count > Self.unknownFieldsNamed {
            problems.append("and \(unknown.count - Self.unknownFieldsNamed) more unknown fields")
        }

        // The key is an index entry of PostgreSQL's (at most about 2.7 kB): a longer one failed the submission
        // with a raw database error, after the whole-file checks of a fleet had passed.
        if problems.isEmpty, let key = renderConcurrencyKey(input: result), key.utf8.count > Self.maxConcurrencyKeyBytes {
            problems.append("concurrency_key: the input makes it \(key.utf8.count) bytes long; at most \(Self.maxConcurrencyKeyBytes) (give the input fields it uses a max_length)")
        }
        guard problems.isEmpty else { throw InputValidationError(problems: problems) }
        return result
    }

    /// What is wrong with an input stored at submission, as a step is about to receive it: a declared field of
    /// another type than declared, or a required one missing (only a hand edit does either). Only the shape: the
    /// values passed this definition's rules when submitted, and the rules of a newer version (a pattern's work
    /// bound, the concurrency key's length) must not set aside a workflow submitted under an older one.
    public func storedInputProblems(_ input: [String: JSONValue]) -> [String] {
        var problems: [String] = []
        for field in inputs {
            guard let value = input[field.name], value != .null else {
                if field.required && field.defaultValue == nil { problems.append("'\(field.name)': required field is missing") }
                continue
            }
            if let problem = field.typeProblem(value) { problems.append("'\(field.name)': \(problem)") }
        }
        return problems
    }

    /// The longest concurrency key a submission may render.
    public static let maxConcurrencyKeyBytes = 1000

    /// How many unknown input fields a refusal names.
    static let unknownFieldsNamed = 10
}
