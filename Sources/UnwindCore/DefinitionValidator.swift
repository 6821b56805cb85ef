/// Turns a parsed YAML tree into a ``WorkflowDefinition``, collecting every problem on the way.
///
/// Checks run in two phases: first each field is read and type-checked on its own (unknown keys,
/// wrong types, bad durations, unknown actions), then the step graph is checked as a whole
/// (duplicate ids, missing `after:` targets, cycles, pivot rules). Graph checks only use steps whose
/// own fields parsed, so one typo produces one issue rather than a cascade.
struct DefinitionValidator {
    let file: String
    let knownActions: Set<String>
    /// The actions that are plans (read-only, run by `unwind plan`): `plan:` must name one, a step must not. Nil when
    /// the caller does not tell them apart.
    let planActions: Set<String>?
    private let actionSuggestions: Suggestion
    private(set) var issues: [DefinitionIssue] = []
    /// "Did you mean" lookups left. Each compares against every candidate; a hostile file with
    /// thousands of typos would otherwise cost seconds, and nobody reads past the first few dozen.
    private var hintBudget = 50

    init(file: String, knownActions: Set<String>, planActions: Set<String>? = nil) {
        self.planActions = planActions
        self.file = file
        self.knownActions = knownActions
        self.actionSuggestions = Suggestion(candidates: knownActions)
    }

    static let rootKeys = ["name", "description", "plan", "concurrency_key", "inputs", "defaults", "steps"]
    static let inputKeys = ["type", "required", "default", "pattern", "max_length", "enum", "description"]
    static let defaultsKeys = ["retry", "timeout"]
    static let stepKeys = ["id", "action", "description", "after", "compensation", "retry", "timeout", "pivot", "priority"]
    static let compensationKeys = ["action", "retry", "timeout"]
    static let retryKeys = ["max_attempts", "initial_interval", "multiplier", "max_interval", "jitter", "non_retryable"]

    static let maximumNameLength = 64
    static let maximumAttempts = 1000
    static let maximumStepIDLength = 64
    /// Real sagas have tens of steps; the cap keeps the graph checks and suggestions cheap on hostile files.
    static let maximumStepCount = 1000

    /// Everything about a workflow except its source text and hash, which the loader adds.
    struct Result {
        var name: String
        var description: String?
        var planAction: String?
        var concurrencyKeyTemplate: String?
        var inputs: [InputField]
        var steps: [StepDefinition]
    }

    /// A step as written, before graph resolution; positions are kept for graph-level messages.
    private struct DraftStep {
        var index: Int
        var id: String
        var idLine: Int?
        var action: String
        var description: String?
        var after: [(id: String, line: Int?)]?
        var afterLine: Int?
        var compensation: CompensationDefinition?
        var compensationLine: Int?
        var retry: RetryPolicy
        var timeout: Duration
        var isPivot: Bool
        var pivotLine: Int?
        var priority: Int
        var path: String { "steps[\(index)]" }
    }

    /// Retry keys given in one mapping; unset fields fall through to the enclosing default.
    private struct RetryOverrides {
        var maxAttempts: Int?
        var initialInterval: Duration?
        var multiplier: Double?
        var maxInterval: Duration?
        var jitter: RetryPolicy.Jitter?
        var nonRetryable: [String]?

        func applied(to base: RetryPolicy) -> RetryPolicy {
            var policy = base
            if let maxAttempts { policy.maxAttempts = maxAttempts }
            if let initialInterval { policy.initialInterval = initialInterval }
            if let multiplier { policy.multiplier = multiplier }
            if let maxInterval { policy.maxInterval = maxInterval }
            if let jitter { policy.jitter = jitter }
            if let nonRetryable { policy.nonRetryableErrorCodes = nonRetryable }
            return policy
        }
    }

    // MARK: - Document

    mutating func validate(_ root: SourceNode) -> Result? {
        guard let fields = mapping(root, path: "", allowed: Self.rootKeys, what: "the document") else { return nil }

        let name = requiredString(fields, "name", in: root, path: "").flatMap { validateName($0, node: fields["name"]!.value) }
        let description = fields["description"].flatMap { string($0.value, path: "description") }
        let plan = fields["plan"].flatMap { entry in
            string(entry.value, path: "plan").flatMap { knownAction($0, node: entry.value, path: "plan", asPlan: true) }
        }
        let inputs = fields["inputs"].map { validateInputs($0.value) } ?? []
        let concurrencyKey = fields["concurrency_key"].flatMap { entry in
            string(entry.value, path: "concurrency_key").map {
                validateConcurrencyKey($0, declaredInputs: Self.keys(of: fields["inputs"]?.value), node: entry.value)
            }
        }

        var defaultRetry = RetryPolicy.default
        var defaultTimeout = StepDefinition.defaultTimeout
        if let defaults = fields["defaults"],
           let entries = mapping(defaults.value, path: "defaults", allowed: Self.defaultsKeys, what: "defaults") {
            if let retry = entries["retry"], let overrides = retryOverrides(retry.value, path: "defaults.retry") {
                defaultRetry = checked(overrides.applied(to: .default), node: retry.value, path: "defaults.retry")
            }
            if let timeout = entries["timeout"], let value = duration(timeout.value, path: "defaults.timeout") {
                defaultTimeout = value
            }
        }

        var steps: [StepDefinition]?
        if let stepsEntry = fields["steps"] {
            steps = validateSteps(stepsEntry.value, defaultRetry: defaultRetry, defaultTimeout: defaultTimeout)
        } else {
            issue(root, path: nil, "missing required key 'steps'")
        }

        guard issues.isEmpty, let name, let steps else { return nil }
        return Result(name: name, description: description, planAction: plan,
                      concurrencyKeyTemplate: concurrencyKey, inputs: inputs, steps: steps)
    }

    private mutating func validateName(_ name: String, node: SourceNode) -> String? {
        guard name.count <= Self.maximumNameLength, Self.isSlug(name, extraCharacters: "-") else {
            issue(node, path: "name", "workflow name '\(Suggestion.shown(name))' must match [a-z0-9][a-z0-9-]* and be at most "
                + "\(Self.maximumNameLength) characters")
            return nil
        }
        if let stem = Self.fileStem(file), stem != name {
            issue(node, path: "name", "workflow name '\(Suggestion.shown(name))' does not match the file name; "
                + "rename the file to '\(name).yaml' or the workflow to '\(stem)'")
            return nil
        }
        return name
    }

    /// The file name without `.yaml`/`.yml`; `nil` for names without those extensions (strings loaded
    /// from elsewhere), which are exempt from the name check.
    static func fileStem(_ file: String) -> String? {
        let base = file.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? file
        for suffix in [".yaml", ".yml"] where base.hasSuffix(suffix) && base.count > suffix.count {
            return String(base.dropLast(suffix.count))
        }
        return nil
    }

    /// `[a-z0-9][a-z0-9<extra>]*`
    static func isSlug(_ text: String, extraCharacters: String) -> Bool {
        guard let first = text.unicodeScalars.first, isLowerAlnum(first) else { return false }
        return text.unicodeScalars.allSatisfy { isLowerAlnum($0) || extraCharacters.unicodeScalars.contains($0) }
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`, so input names work as `{placeholders}` and in any language's SDK.
    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
    }

    private static func isLowerAlnum(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    /// Keys of a mapping node, so checks that only need input *names* still work when a declaration is broken.
    private static func keys(of node: SourceNode?) -> [String] {
        guard case .mapping(let entries)? = node?.value else { return [] }
        return entries.map(\.key)
    }

    private mutating func validateConcurrencyKey(_ template: String, declaredInputs declared: [String], node: SourceNode) -> String {
        if template.trimmingCharacters(in: .whitespaces).isEmpty {
            issue(node, path: "concurrency_key", "is empty; name the inputs that identify what must not run twice at once, e.g. 'account:{account}', or remove the key")
        }
        if let brace = ConcurrencyKeyTemplate.unmatchedBrace(in: template) {
            issue(node, path: "concurrency_key",
                  "unmatched '\(brace)' in '\(Suggestion.shown(template))'; close the placeholder ({input}), or write '\(brace)\(brace)' for a literal brace")
        }
        for field in ConcurrencyKeyTemplate.fieldNames(in: template) {
            if field.isEmpty {
                issue(node, path: "concurrency_key", "empty placeholder '{}' in '\(Suggestion.shown(template))'")
            } else if !declared.contains(field) {
                issue(node, path: "concurrency_key", "placeholder '{\(Suggestion.shown(field))}' does not name a declared input"
                    + hint(for: field, from: Suggestion(candidates: declared)))
            }
        }
        return template
    }

    // MARK: - Inputs

    private mutating func validateInputs(_ node: SourceNode) -> [InputField] {
        guard case .mapping(let entries) = node.value else {
            issue(node, path: "inputs", "expected a mapping of input names to declarations, got \(node.kindDescription)")
            return []
        }
        var fields: [InputField] = []
        for entry in entries {
            let path = "inputs.\(entry.key)"
            if !Self.isIdentifier(entry.key) {
                issue(line: entry.keyLine, column: entry.keyColumn, path: path,
                      "input name '\(Suggestion.shown(entry.key))' must be letters, digits and '_', not starting with a digit")
                continue
            }
            if let field = validateInputField(name: entry.key, entry.value, path: path) {
                fields.append(field)
            }
        }
        return fields
    }

    private mutating func validateInputField(name: String, _ node: SourceNode, path: String) -> InputField? {
        guard let entries = mapping(node, path: path, allowed: Self.inputKeys, what: "an input declaration") else { return nil }
        let before = issues.count
        var type: InputField.InputType?
        if let typeEntry = entries["type"], let text = string(typeEntry.value, path: "\(path).type") {
            type = InputField.InputType(rawValue: text)
            if type == nil {
                let names = InputField.InputType.allCases.map(\.rawValue)
                issue(typeEntry.value, path: "\(path).type", "unknown input type '\(Suggestion.shown(text))'; expected one of "
                    + names.joined(separator: ", ") + hint(for: text, from: Suggestion(candidates: names)))
            }
        } else if entries["type"] == nil {
            issue(node, path: path, "missing required key 'type'")
        }
        // `accept` receives the acknowledgements (`--accept`, the API's `accept`) as a list of names: declared as
        // anything else, the workflow validated and then could never be submitted.
        if name == "accept", let type, type != .array, let typeEntry = entries["type"] {
            issue(typeEntry.value, path: "\(path).type", "the 'accept' input holds the acknowledgements given with --accept: declare it `type: array` (with an `enum` of the flags)")
        }
        var field = InputField(name: name, type: type ?? .string)
        field.required = entries["required"].flatMap { bool($0.value, path: "\(path).required") } ?? false
        field.description = entries["description"].flatMap { string($0.value, path: "\(path).description") }
        if let entry = entries["pattern"], let pattern = string(entry.value, path: "\(path).pattern") {
            if let problem = InputField.patternProblem(pattern) {
                issue(entry.value, path: "\(path).pattern", "'\(Suggestion.shown(pattern))' is not a valid regular expression: \(problem)")
            } else {
                field.pattern = pattern
            }
        }
        if let entry = entries["max_length"], let length = int(entry.value, path: "\(path).max_length") {
            if length < 0 {
                issue(entry.value, path: "\(path).max_length", "must be ≥ 0, got \(length)")
            } else if let limit = field.compiledPattern?.maximumValueLength, length > limit {
                // Values up to max_length would pass it and then be refused as too long for the pattern.
                issue(entry.value, path: "\(path).max_length", "is \(length), more than this field's pattern checks (\(limit)); lower it, or simplify the pattern")
            } else {
                field.maxLength = length
            }
        }
        if let entry = entries["enum"] {
            if case .sequence(let values) = entry.value.value, !values.isEmpty {
                field.allowedValues = values.map(\.jsonValue)
            } else {
                issue(entry.value, path: "\(path).enum", "expected a non-empty list of allowed values, got \(entry.value.kindDescription)")
            }
        }
        // `pattern` and `max_length` constrain text only: on another type they would be silently ignored.
        if let type, type != .string {
            for key in ["pattern", "max_length"] {
                if let entry = entries[key] {
                    issue(entry.value, path: "\(path).\(key)", "applies only to string inputs; this input is \(type.rawValue) (remove it, or use enum for a fixed set of values)")
                }
            }
        }
        guard issues.count == before, type != nil else { return nil }
        // Constraints are checked against the default and the enum members now, so a bad declaration
        // fails at load time instead of on every submit.
        if let entry = entries["default"] {
            let value = entry.value.jsonValue
            if value.isNull {
                issue(entry.value, path: "\(path).default", "default must not be null; omit it instead")
            } else {
                for problem in field.problems(with: value) {
                    issue(entry.value, path: "\(path).default", "default \(problem)")
                }
                field.defaultValue = value
            }
        }
        // An array input's enum lists allowed elements, which may have any type.
        if let allowed = field.allowedValues, let node = entries["enum"]?.value, type != .array {
            var unconstrained = field
            unconstrained.allowedValues = nil
            for value in allowed {
                for problem in unconstrained.problems(with: value) {
                    issue(node, path: "\(path).enum", "enum member \(value.canonicalJSON): \(problem)")
                }
            }
        }
        return issues.count == before ? field : nil
    }

    // MARK: - Steps

    private mutating func validateSteps(_ node: SourceNode, defaultRetry: RetryPolicy, defaultTimeout: Duration) -> [StepDefinition]? {
        guard case .sequence(let nodes) = node.value else {
            issue(node, path: "steps", "expected a list of steps, got \(node.kindDescription)")
            return nil
        }
        guard !nodes.isEmpty else {
            issue(node, path: "steps", "a workflow needs at least one step")
            return nil
        }
        guard nodes.count <= Self.maximumStepCount else {
            issue(node, path: "steps", "a workflow may have at most \(Self.maximumStepCount) steps, this one has \(nodes.count)")
            return nil
        }
        // Ids as written, read before any step is checked: a step broken elsewhere (a bad timeout, say) still
        // counts for duplicate ids and as a target of `after:`, so those problems are reported in the same pass.
        var declaredIDs: [String: Int?] = [:]
        var idsReadable = true
        for (index, stepNode) in nodes.enumerated() {
            guard case .mapping(let entries) = stepNode.value, let entry = entries.first(where: { $0.key == "id" }),
                  case .scalar(let id, _) = entry.value.value else {
                idsReadable = false
                continue
            }
            if let first = declaredIDs[id] {
                issue(entry.value, path: "steps[\(index)].id", "duplicate step id '\(Suggestion.shown(id))'"
                    + (first.map { " (first declared at line \($0))" } ?? ""))
            } else {
                declaredIDs[id] = entry.keyLine
            }
        }
        var drafts: [DraftStep] = []
        var complete = true
        for (index, stepNode) in nodes.enumerated() {
            if let draft = validateStep(stepNode, index: index, defaultRetry: defaultRetry, defaultTimeout: defaultTimeout) {
                drafts.append(draft)
            } else {
                complete = false
            }
        }
        let steps = resolveGraph(drafts, declaredIDs: idsReadable ? Set(declaredIDs.keys) : nil)
        return complete ? steps : nil
    }

    private mutating func validateStep(_ node: SourceNode, index: Int, defaultRetry: RetryPolicy, defaultTimeout: Duration) -> DraftStep? {
        let path = "steps[\(index)]"
        guard let entries = mapping(node, path: path, allowed: Self.stepKeys, what: "a step") else { return nil }
        let before = issues.count

        let id = requiredString(entries, "id", in: node, path: path).flatMap { id -> String? in
            guard id.count <= Self.maximumStepIDLength, Self.isSlug(id, extraCharacters: "-_") else {
                issue(entries["id"]!.value, path: "\(path).id", "step id '\(Suggestion.shown(id))' must match "
                    + "[a-z0-9][a-z0-9-_]* and be at most \(Self.maximumStepIDLength) characters")
                return nil
            }
            return id
        }
        let action = requiredString(entries, "action", in: node, path: path).flatMap {
            knownAction($0, node: entries["action"]!.value, path: "\(path).action")
        }
        let description = entries["description"].flatMap { string($0.value, path: "\(path).description") }

        var after: [(id: String, line: Int?)]?
        if let entry = entries["after"] {
            after = stringList(entry.value, path: "\(path).after", what: "step ids").map { $0.map { (id: $0.text, line: $0.line) } }
        }

        var retry = defaultRetry
        if let entry = entries["retry"], let overrides = retryOverrides(entry.value, path: "\(path).retry") {
            retry = checked(overrides.applied(to: defaultRetry), node: entry.value, path: "\(path).retry")
        }
        let timeout = entries["timeout"].map { duration($0.value, path: "\(path).timeout") } ?? defaultTimeout

        var compensation: CompensationDefinition?
        if let entry = entries["compensation"] {
            compensation = validateCompensation(entry.value, path: "\(path).compensation",
                                                defaultRetry: defaultRetry, defaultTimeout: defaultTimeout)
        }
        let isPivot = entries["pivot"].flatMap { bool($0.value, path: "\(path).pivot") } ?? false
        var priority = entries["priority"].flatMap { int($0.value, path: "\(path).priority") } ?? 0
        if let node = entries["priority"]?.value, !(-SubmissionLimits.maxPriority...SubmissionLimits.maxPriority).contains(priority) {
            issue(node, path: "\(path).priority", "must be between -\(SubmissionLimits.maxPriority) and \(SubmissionLimits.maxPriority) (higher runs first)")
            priority = 0
        }

        guard issues.count == before, let id, let action, let timeout else { return nil }
        return DraftStep(index: index, id: id, idLine: entries["id"]?.value.line, action: action,
                         description: description, after: after, afterLine: entries["after"]?.value.line,
                         compensation: compensation, compensationLine: entries["compensation"]?.keyLine,
                         retry: retry, timeout: timeout, isPivot: isPivot, pivotLine: entries["pivot"]?.keyLine,
                         priority: priority)
    }

    private mutating func validateCompensation(_ node: SourceNode, path: String, defaultRetry: RetryPolicy,
                                               defaultTimeout: Duration) -> CompensationDefinition? {
        if case .scalar = node.value {
            return string(node, path: path)
                .flatMap { knownAction($0, node: node, path: path) }
                .map { CompensationDefinition(action: $0, retry: defaultRetry, timeout: defaultTimeout) }
        }
        guard let entries = mapping(node, path: path, allowed: Self.compensationKeys,
                                    what: "a compensation (an action name or a mapping with 'action')")
        else { return nil }
        let before = issues.count
        let action = requiredString(entries, "action", in: node, path: path).flatMap {
            knownAction($0, node: entries["action"]!.value, path: "\(path).action")
        }
        var retry = defaultRetry
        if let entry = entries["retry"], let overrides = retryOverrides(entry.value, path: "\(path).retry") {
            retry = checked(overrides.applied(to: defaultRetry), node: entry.value, path: "\(path).retry")
        }
        let timeout = entries["timeout"].map { duration($0.value, path: "\(path).timeout") } ?? defaultTimeout
        guard issues.count == before, let action, let timeout else { return nil }
        return CompensationDefinition(action: action, retry: retry, timeout: timeout)
    }

    // MARK: - Graph

    /// Resolves predecessors and checks ids, references, cycles and the pivot rules.
    /// - Parameter declaredIDs: every step id as written, or nil when some step's id could not be read (then a
    ///   reference to an unknown id is not reported: the unreadable step may be its target). Duplicate ids were
    ///   reported while collecting them; here the later ones are just left out.
    private mutating func resolveGraph(_ drafts: [DraftStep], declaredIDs: Set<String>?) -> [StepDefinition] {
        var firstByID: [String: DraftStep] = [:]
        var unique: [DraftStep] = []
        for draft in drafts where firstByID[draft.id] == nil {
            firstByID[draft.id] = draft
            unique.append(draft)
        }
        let idSuggestions = Suggestion(candidates: unique.map(\.id))

        // Without any `after:` the file is a sequence; with one, every dependency must be explicit.
        // Mixing is deliberate: a single `after:` turns on DAG mode, and a step without one is a root.
        let isDAG = drafts.contains { $0.after != nil }
        var predecessors: [String: [String]] = [:]
        for (position, draft) in unique.enumerated() {
            guard isDAG else {
                predecessors[draft.id] = position == 0 ? [] : [unique[position - 1].id]
                continue
            }
            var resolved: [String] = []
            var reportedTwice: Set<String> = []  // `after: [b, b, b]` is one problem, reported once
            for reference in draft.after ?? [] {
                if firstByID[reference.id] == nil {
                    // A step that failed its other checks is still a target; one whose id is unreadable may be.
                    guard let declaredIDs, !declaredIDs.contains(reference.id) else { continue }
                    issue(line: reference.line ?? draft.afterLine, path: "\(draft.path).after",
                          "step '\(Suggestion.shown(reference.id))' does not exist" + hint(for: reference.id, from: idSuggestions))
                } else if resolved.contains(reference.id) {
                    guard reportedTwice.insert(reference.id).inserted else { continue }
                    issue(line: reference.line ?? draft.afterLine, path: "\(draft.path).after",
                          "step '\(reference.id)' is listed more than once")
                } else {
                    resolved.append(reference.id)
                }
            }
            predecessors[draft.id] = resolved
        }

        let hasCycle = reportCycles(unique, predecessors: predecessors)

        let pivots = unique.filter(\.isPivot)
        for extra in pivots.dropFirst() {
            issue(line: extra.pivotLine, path: "\(extra.path).pivot", "more than one pivot: '\(extra.id)' and '\(pivots[0].id)' "
                + "are both marked pivot: true; a workflow has at most one point of no return")
        }
        if let pivot = pivots.first, !hasCycle {
            var ancestors = Set<String>()
            var stack = predecessors[pivot.id] ?? []
            while let next = stack.popLast() {
                guard ancestors.insert(next).inserted else { continue }
                stack += predecessors[next] ?? []
            }
            for draft in unique where draft.compensation != nil && !ancestors.contains(draft.id) {
                let why = draft.id == pivot.id
                    ? "'\(draft.id)' is the pivot itself"
                    : "'\(draft.id)' does not come before the pivot '\(pivot.id)' (the pivot does not depend on it)"
                issue(line: draft.compensationLine, path: "\(draft.path).compensation",
                      "compensation declared on or after the pivot: \(why); only steps before the point of no return can be undone")
            }
        }

        return unique.map { draft in
            StepDefinition(id: draft.id, action: draft.action, description: draft.description,
                           after: predecessors[draft.id] ?? [], compensation: draft.compensation,
                           retry: draft.retry, timeout: draft.timeout, isPivot: draft.isPivot, priority: draft.priority)
        }
    }

    /// Depth-first search for back edges; each distinct cycle is reported once as `a → b → a`, where
    /// `→` reads "runs before", at the `after:` line of the step that closes it.
    private mutating func reportCycles(_ steps: [DraftStep], predecessors: [String: [String]]) -> Bool {
        var successors: [String: [String]] = [:]
        for step in steps {
            for predecessor in predecessors[step.id] ?? [] { successors[predecessor, default: []].append(step.id) }
        }
        let byID = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, $0) })
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var reported = Set<Set<String>>()
        var found = false

        // Iterative DFS: a hostile file can have thousands of steps, and recursion depth would follow it.
        for start in steps.map(\.id) where marks[start] == nil {
            var stack: [(id: String, next: Int)] = [(start, 0)]
            marks[start] = .visiting
            while let top = stack.last {
                let children = successors[top.id] ?? []
                if top.next < children.count {
                    stack[stack.count - 1].next += 1
                    let child = children[top.next]
                    switch marks[child] {
                    case nil:
                        marks[child] = .visiting
                        stack.append((child, 0))
                    case .visiting?:
                        found = true
                        let path = stack.map(\.id).drop(while: { $0 != child })
                        guard reported.insert(Set(path)).inserted else { continue }
                        let closing = byID[child]
                        issue(line: closing?.afterLine ?? closing?.idLine, path: closing.map { "\($0.path).after" },
                              "cycle in step dependencies: " + (path + [child]).joined(separator: " → "))
                    case .done?:
                        continue
                    }
                } else {
                    marks[top.id] = .done
                    stack.removeLast()
                }
            }
        }
        return found
    }

    // MARK: - Retry

    private mutating func retryOverrides(_ node: SourceNode, path: String) -> RetryOverrides? {
        guard let entries = mapping(node, path: path, allowed: Self.retryKeys, what: "a retry policy") else { return nil }
        let before = issues.count
        var overrides = RetryOverrides()
        if let entry = entries["max_attempts"], let value = int(entry.value, path: "\(path).max_attempts") {
            if (1...Self.maximumAttempts).contains(value) {
                overrides.maxAttempts = value
            } else {
                issue(entry.value, path: "\(path).max_attempts", "must be between 1 and \(Self.maximumAttempts), got \(value)")
            }
        }
        if let entry = entries["initial_interval"] {
            overrides.initialInterval = duration(entry.value, path: "\(path).initial_interval")
        }
        if let entry = entries["max_interval"] {
            overrides.maxInterval = duration(entry.value, path: "\(path).max_interval")
        }
        if let entry = entries["multiplier"], let value = number(entry.value, path: "\(path).multiplier") {
            if value >= 1, value <= 100 {
                overrides.multiplier = value
            } else {
                issue(entry.value, path: "\(path).multiplier", "must be between 1 and 100, got \(entry.value.kindDescription)")
            }
        }
        if let entry = entries["jitter"], let text = string(entry.value, path: "\(path).jitter") {
            if let jitter = RetryPolicy.Jitter(rawValue: text) {
                overrides.jitter = jitter
            } else {
                issue(entry.value, path: "\(path).jitter", "jitter must be 'full' or 'none', got '\(Suggestion.shown(text))'")
            }
        }
        if let entry = entries["non_retryable"] {
            overrides.nonRetryable = stringList(entry.value, path: "\(path).non_retryable", what: "error codes")?.map(\.text)
        }
        return issues.count == before ? overrides : nil
    }

    /// Cross-field check on the merged policy (the fields may come from `defaults` and the step).
    private mutating func checked(_ policy: RetryPolicy, node: SourceNode, path: String) -> RetryPolicy {
        if policy.initialInterval > policy.maxInterval {
            issue(node, path: path, "initial_interval (\(policy.initialInterval.definitionText)) is longer than "
                + "max_interval (\(policy.maxInterval.definitionText))")
        }
        return policy
    }

    // MARK: - Typed readers

    /// Checks that `node` is a mapping with only `allowed` keys and returns its entries by key.
    private mutating func mapping(_ node: SourceNode, path: String, allowed: [String], what: String) -> [String: SourceNode.Entry]? {
        guard case .mapping(let entries) = node.value else {
            issue(node, path: path.isEmpty ? nil : path, "expected \(what) (a mapping), got \(node.kindDescription)")
            return nil
        }
        var result: [String: SourceNode.Entry] = [:]
        for entry in entries {
            if allowed.contains(entry.key) {
                result[entry.key] = entry
            } else {
                let keyPath = path.isEmpty ? entry.key : "\(path).\(entry.key)"
                issue(line: entry.keyLine, column: entry.keyColumn, path: keyPath,
                      "unknown key '\(Suggestion.shown(entry.key))'" + hint(for: entry.key, from: Suggestion(candidates: allowed)))
            }
        }
        return result
    }

    private mutating func requiredString(_ entries: [String: SourceNode.Entry], _ key: String, in node: SourceNode, path: String) -> String? {
        guard let entry = entries[key] else {
            issue(node, path: path.isEmpty ? nil : path, "missing required key '\(key)'")
            return nil
        }
        return string(entry.value, path: path.isEmpty ? key : "\(path).\(key)")
    }

    /// Any non-null scalar; numbers are accepted as text (`non_retryable: [403]`).
    private mutating func string(_ node: SourceNode, path: String) -> String? {
        if case .scalar(let text, let plain) = node.value, !(plain && SourceNode.isNull(text)) {
            return text
        }
        issue(node, path: path, "expected a string, got \(node.kindDescription)")
        return nil
    }

    private mutating func bool(_ node: SourceNode, path: String) -> Bool? {
        if case .bool(let value) = node.jsonValue, case .scalar = node.value { return value }
        issue(node, path: path, "expected true or false, got \(node.kindDescription)")
        return nil
    }

    private mutating func int(_ node: SourceNode, path: String) -> Int? {
        if case .scalar(let text, true) = node.value, let value = Int(text) { return value }
        issue(node, path: path, "expected an integer, got \(node.kindDescription)")
        return nil
    }

    private mutating func number(_ node: SourceNode, path: String) -> Double? {
        if case .scalar = node.value, let value = node.jsonValue.doubleValue { return value }
        issue(node, path: path, "expected a number, got \(node.kindDescription)")
        return nil
    }

    private mutating func duration(_ node: SourceNode, path: String) -> Duration? {
        if case .scalar(let text, _) = node.value, let value = Duration(definitionText: text) { return value }
        issue(node, path: path, "bad duration \(node.kindDescription): use a number of seconds or units like "
            + "500ms, 2s, 1m30s, 1h; it must be at least 1ms and at most 30 days")
        return nil
    }

    /// A list of strings, or a single string as shorthand for a one-element list.
    private mutating func stringList(_ node: SourceNode, path: String, what: String) -> [(text: String, line: Int?)]? {
        switch node.value {
        case .scalar:
            return string(node, path: path).map { [($0, node.line)] }
        case .sequence(let items):
            var result: [(text: String, line: Int?)] = []
            for (index, item) in items.enumerated() {
                guard let text = string(item, path: "\(path)[\(index)]") else { return nil }
                result.append((text, item.line))
            }
            return result
        case .mapping:
            issue(node, path: path, "expected a list of \(what), got a mapping")
            return nil
        }
    }

    private mutating func knownAction(_ name: String, node: SourceNode, path: String, asPlan: Bool = false) -> String? {
        guard knownActions.contains(name) else {
            issue(node, path: path, "unknown action '\(Suggestion.shown(name))'" + hint(for: name, from: actionSuggestions))
            return nil
        }
        if let planActions {
            let available = planActions.sorted().map { "'\($0)'" }.joined(separator: ", ")
            if asPlan && !planActions.contains(name) {
                issue(node, path: path, "'\(name)' is a step's action, not a plan; name a plan action (\(available))")
                return nil
            }
            if !asPlan && planActions.contains(name) {
                issue(node, path: path, "'\(name)' is a plan (read-only, for `unwind plan`), not a step's action; name it under the definition's `plan:` instead")
                return nil
            }
        }
        return name
    }

    // MARK: - Recording

    private mutating func hint(for word: String, from suggestions: Suggestion) -> String {
        guard hintBudget > 0 else { return "" }
        hintBudget -= 1
        return suggestions.hint(for: word)
    }

    private mutating func issue(_ node: SourceNode, path: String?, _ message: String) {
        issue(line: node.line, column: node.column, path: path, message)
    }

    private mutating func issue(line: Int?, column: Int? = nil, path: String?, _ message: String) {
        issues.append(DefinitionIssue(file: file, line: line, column: column, path: path, message: message))
    }
}
