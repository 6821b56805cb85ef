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

        for name in input.keys.sorted() where !declared.contains(name) {
            problems.append("'\(name)': unknown field" + Suggestion.hint(for: name, in: declared))
        }

        guard problems.isEmpty else { throw InputValidationError(problems: problems) }
        return result
    }
}
