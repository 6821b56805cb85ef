extension WorkflowDefinition {
    /// Puts acknowledgements (`unwind submit --accept …`, or `accept` in an API submission) into the input field
    /// `accept` when the workflow declares one, so its own steps can check them again at run time.
    ///
    /// The CLI and the HTTP API both go through this, so a teardown is refused or accepted the same way whoever
    /// submits it.
    public func input(_ input: [String: JSONValue], withAcknowledgements accepted: [String]) -> [String: JSONValue] {
        guard inputs.contains(where: { $0.name == "accept" }) else { return input }
        var copy = input
        let existing = copy["accept"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let merged = Array(Set(existing + accepted)).sorted()
        if !merged.isEmpty || copy["accept"] != nil { copy["accept"] = .array(merged.map { .string($0) }) }
        return copy
    }
}
