extension JSON {
    /// Indented serialisation for files people read (generated seeds, docs examples).
    public func prettySerialized(indent: String = "  ") -> String {
        var out = ""
        writePretty(to: &out, level: 0, indent: indent)
        return out
    }

    private func writePretty(to out: inout String, level: Int, indent: String) {
        let pad = String(repeating: indent, count: level + 1)
        let closing = String(repeating: indent, count: level)
        switch self {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (index, item) in items.enumerated() {
                out += pad
                item.writePretty(to: &out, level: level + 1, indent: indent)
                out += index < items.count - 1 ? ",\n" : "\n"
            }
            out += closing + "]"
        case .object(let fields) where !fields.isEmpty:
            out += "{\n"
            for (index, field) in fields.enumerated() {
                out += pad + JSON.string(field.0).serialized() + ": "
                field.1.writePretty(to: &out, level: level + 1, indent: indent)
                out += index < fields.count - 1 ? ",\n" : "\n"
            }
            out += closing + "}"
        default:
            out += serialized()
        }
    }
}
