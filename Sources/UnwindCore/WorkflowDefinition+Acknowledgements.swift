extension WorkflowDefinition {
    /// Puts acknowledgements (`unwind submit --accept …`, or `accept` in an API submission) into the input field
    /// `accept` when the workflow declares one, so its own steps can check them again at run time.
    ///
    /// The CLI and the HTTP API both go through this, so a teardown is refused or accepted the same way whoever
    /// submits it.
    ///
    /// Acknowledgements given to a workflow that takes none are refused rather than dropped: whoever gave them
    /// expected them to matter (a different workflow, perhaps). Which values are allowed is the `accept` input's
    /// `enum`, checked with the rest of the input.
    public func input(_ input: [String: JSONValue], withAcknowledgements accepted: [String]) throws(InputValidationError) -> [String: JSONValue] {
        guard let field = inputs.first(where: { $0.name == "accept" }) else {
            if accepted.isEmpty { return input }
            throw InputValidationError(problems: [
                "accept: workflow '\(name)' takes no acknowledgements (it declares no 'accept' input); leave them out",
            ])
        }
        // Checked on their own too, so that a misspelt --accept is one error, not one per row of a fleet.
        let problems = field.problems(with: .array(accepted.map { .string($0) }))
        if !problems.isEmpty { throw InputValidationError(problems: problems.map { "'accept': \($0)" }) }
        var copy = input
        // A given `accept` that is not a list of strings ("accept": "handling-fee" in a JSON line) is left as it
        // is, for the input's validation to refuse: merged, it was silently replaced by the flags' list.
        if let given = copy["accept"], given.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true { return copy }
        let existing = copy["accept"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let merged = Array(Set(existing + accepted)).sorted()
        if !merged.isEmpty || copy["accept"] != nil { copy["accept"] = .array(merged.map { .string($0) }) }
        return copy
    }

    /// The acknowledgements an input gives through its own `accept` field (a fleet row's column, `--set`, an input
    /// file, the API's `input`): they count like `--accept`, wherever the input came from.
    public func acknowledgements(in input: [String: JSONValue]) -> Set<String> {
        guard inputs.contains(where: { $0.name == "accept" }) else { return [] }
        return Set(input["accept"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }
}
