/// A validated workflow definition, as loaded from `workflows/<name>.yaml`.
///
/// Values of this type are only produced by ``WorkflowDefinitionLoader`` (or decoded from the copy
/// stored with a submitted workflow), so graph invariants hold: step ids are unique, every
/// predecessor exists, there is no cycle and at most one pivot.
public struct WorkflowDefinition: Sendable, Codable, Equatable {
    public var name: String
    public var description: String?
    /// Read-only action that previews what the workflow would do (`plan:`).
    public var planAction: String?
    /// Template such as `"{domain_id}"`; at most one active workflow per rendered key.
    public var concurrencyKeyTemplate: String?
    /// In file order.
    public var inputs: [InputField]
    /// In file order.
    public var steps: [StepDefinition]
    /// Lowercase hex SHA-256 of the exact source bytes; identifies the version a workflow runs.
    public var contentHash: String
    /// The YAML text as loaded, kept so a workflow in flight can be explained after the file changes.
    public var source: String

    public init(
        name: String,
        description: String? = nil,
        planAction: String? = nil,
        concurrencyKeyTemplate: String? = nil,
        inputs: [InputField] = [],
        steps: [StepDefinition],
        contentHash: String,
        source: String
    ) {
        self.name = name
        self.description = description
        self.planAction = planAction
        self.concurrencyKeyTemplate = concurrencyKeyTemplate
        self.inputs = inputs
        self.steps = steps
        self.contentHash = contentHash
        self.source = source
    }

    /// The step marked `pivot: true`, if any.
    public var pivotStepID: String? {
        steps.first(where: \.isPivot)?.id
    }

    public func step(_ id: String) -> StepDefinition? {
        steps.first { $0.id == id }
    }

    /// Steps that must succeed before `id` may start (file order → previous step, or `after:`).
    public func predecessors(of id: String) -> [String] {
        step(id)?.after ?? []
    }

    /// Steps that list `id` among their predecessors, in file order.
    public func successors(of id: String) -> [String] {
        steps.filter { $0.after.contains(id) }.map(\.id)
    }

    /// Whether `id` lies in the compensable region: strictly before the pivot, meaning the pivot
    /// transitively depends on it. With no pivot every step is compensable.
    public func isBeforePivot(_ id: String) -> Bool {
        guard let pivot = pivotStepID else { return step(id) != nil }
        return ancestors(of: pivot).contains(id)
    }

    /// All steps `id` transitively depends on (excluding `id` itself unless there is a cycle).
    func ancestors(of id: String) -> Set<String> {
        var seen = Set<String>()
        var stack = predecessors(of: id)
        while let next = stack.popLast() {
            guard seen.insert(next).inserted else { continue }
            stack.append(contentsOf: predecessors(of: next))
        }
        return seen
    }

    /// Every step id, predecessors first. Among steps that are ready at the same time, file order wins,
    /// so a linear file yields exactly its file order.
    public func topologicalOrder() -> [String] {
        var remaining = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, Set($0.after)) })
        var order: [String] = []
        order.reserveCapacity(steps.count)
        while order.count < steps.count {
            // O(n²) is fine: definitions have tens of steps, and this keeps the tie-break obvious.
            guard let ready = steps.first(where: { remaining[$0.id]?.isEmpty == true }) else {
                // Unreachable for loader-produced definitions (cycles are rejected); append the rest in
                // file order rather than looping forever on a hand-built one.
                order += steps.map(\.id).filter { remaining[$0] != nil }
                break
            }
            order.append(ready.id)
            remaining[ready.id] = nil
            for key in remaining.keys { remaining[key]?.remove(ready.id) }
        }
        return order
    }

    /// Renders ``concurrencyKeyTemplate`` by replacing each `{field}` with that input value
    /// (strings as-is, other values as compact JSON, missing values as an empty string); `{{` and `}}`
    /// are literal braces. Pass the input returned by ``validateInput(_:)`` so defaults are applied.
    ///
    /// - Returns: `nil` when the definition has no concurrency key.
    public func renderConcurrencyKey(input: [String: JSONValue]) -> String? {
        concurrencyKeyRenderer?.render(input: input) ?? nil
    }

    /// The parsed `concurrency_key` template, to render many inputs without parsing it for each (fleet batches).
    public var concurrencyKeyRenderer: ConcurrencyKeyRenderer? {
        concurrencyKeyTemplate.map { ConcurrencyKeyRenderer(segments: ConcurrencyKeyTemplate.parse($0)) }
    }
}

/// Renders a parsed `concurrency_key` template; see ``WorkflowDefinition/renderConcurrencyKey(input:)``.
public struct ConcurrencyKeyRenderer: Sendable {
    let segments: [ConcurrencyKeyTemplate.Segment]

    /// `nil` when the key renders empty (every placeholder names an absent optional input): an empty key would be
    /// one lock shared by every such workflow of every definition, so it means "no key" instead.
    public func render(input: [String: JSONValue]) -> String? {
        var output = ""
        for segment in segments {
            switch segment {
            case .literal(let text):
                output += text
            case .field(let name):
                switch input[name] {
                case .string(let value)?: output += value
                case nil, .null?: break
                case let value?: output += value.canonicalJSON
                }
            }
        }
        return output.isEmpty ? nil : output
    }
}

/// The `{field}` syntax of `concurrency_key`, shared by rendering and load-time validation.
enum ConcurrencyKeyTemplate {
    enum Segment: Equatable, Sendable {
        case literal(String)
        case field(String)
    }

    /// Unterminated `{` and a lone `}` are kept literally; the validator reports them (``unmatchedBrace(in:)``).
    static func parse(_ template: String) -> [Segment] { scan(template).segments }

    /// The first brace that is neither doubled (`{{`, `}}`) nor part of a `{placeholder}` (a placeholder holding a
    /// `{` counts as unmatched), or nil.
    static func unmatchedBrace(in template: String) -> Character? { scan(template).unmatched }

    private static func scan(_ template: String) -> (segments: [Segment], unmatched: Character?) {
        var segments: [Segment] = []
        var unmatched: Character?
        var literal = ""
        var index = template.startIndex
        while index < template.endIndex {
            let character = template[index]
            let next = template.index(after: index)
            if (character == "{" || character == "}"), next < template.endIndex, template[next] == character {
                literal.append(character)
                index = template.index(after: next)
            } else if character == "{", let close = template[next...].firstIndex(of: "}") {
                if !literal.isEmpty { segments.append(.literal(literal)); literal = "" }
                let name = template[next..<close]
                if name.contains("{") { unmatched = unmatched ?? "{" }
                segments.append(.field(String(name).trimmingWhitespace()))
                index = template.index(after: close)
            } else {
                if character == "{" || character == "}" { unmatched = unmatched ?? character }
                literal.append(character)
                index = next
            }
        }
        if !literal.isEmpty { segments.append(.literal(literal)) }
        return (segments, unmatched)
    }

    static func fieldNames(in template: String) -> [String] {
        parse(template).compactMap { if case .field(let name) = $0 { name } else { nil } }
    }
}
